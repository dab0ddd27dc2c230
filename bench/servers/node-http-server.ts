import { createServer } from 'node:http';

/** The ceiling: a bare node:http server answering an empty 200, no framework at all. */
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-length': '0' });
  response.end();
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});
const close = () => server.close(() => process.exit(0));
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'stop') close();
});
process.on('disconnect', close);
