import { createReceiver } from './receiver';

/** Starts the receiver: WEBHOOK_SECRET is the endpoint's whsec_ secret (WEBHOOK_PREVIOUS_SECRET during a rotation). */
const secrets = [process.env.WEBHOOK_SECRET, process.env.WEBHOOK_PREVIOUS_SECRET].filter((secret): secret is string => !!secret);
if (secrets.length === 0) {
  process.stderr.write('Set WEBHOOK_SECRET to the whsec_ secret Latchkey showed when the endpoint was created.\n');
  process.exit(1);
}
const port = Number(process.env.PORT ?? 4001);
createReceiver({
  secrets,
  onEvent: (event) => {
    process.stdout.write(`${event.type} ${event.id} for ${event.org_id}\n`);
  },
}).listen(port, () => process.stdout.write(`receiving webhooks on http://127.0.0.1:${port}/webhooks/latchkey\n`));
