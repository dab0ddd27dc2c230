import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import fastifyStatic from '@fastify/static';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web console's policy (docs/console.md#content-security-policy): its own scripts,
 * styles and API only, nothing inline, nothing from another origin, never framed. Only
 * /console/ answers carry it; Swagger UI at /docs keeps its own needs.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The repository (or image) root: the nearest folder above this file with a package.json. */
function projectRoot(from: string): string {
  let folder = from;
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) return process.cwd();
    folder = parent;
  }
  return folder;
}

/** Where `npm run build` puts the console, both from source (tests) and from dist/ (npm start, Docker). */
export function consoleBuildDir(): string {
  return join(projectRoot(__dirname), 'dist', 'apps', 'console');
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/**
 * Serves the console at /console/ with its CSP: hashed assets cached for a year, every
 * other path under /console/ answered with index.html so a deep link or a reload opens
 * the right page. `GET /` from a browser goes to the console; JSON clients keep the 404.
 */
export async function serveConsole(fastify: FastifyInstance, buildDir = consoleBuildDir()): Promise<void> {
  fastify.addHook('onRequest', async (request, reply) => {
    if (
      (request.method === 'GET' || request.method === 'HEAD') &&
      (request.url === '/' || request.url === '/console') &&
      wantsHtml(request)
    ) {
      return reply.redirect('/console/', 302);
    }
  });

  await fastify.register(async (scope) => {
    scope.addHook('onRequest', async (_request, reply) => {
      void reply.headers({
        'content-security-policy': CONSOLE_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'same-origin',
        'cross-origin-opener-policy': 'same-origin',
      });
    });

    const indexPath = join(buildDir, 'index.html');
    if (!existsSync(indexPath)) {
      const notBuilt = async (request: FastifyRequest, reply: FastifyReply) =>
        reply.code(503).send({
          success: false,
          error: {
            code: 'SERVICE_UNAVAILABLE',
            message: 'The web console is not built: run `npm run build` (npm start does it for you).',
            details: [],
            request_id: request.id,
          },
        });
      scope.get('/console/', notBuilt);
      scope.get('/console/*', notBuilt);
      return;
    }
    // Read once: index.html names the hashed bundles of this build.
    const index = readFileSync(indexPath);
    await scope.register(fastifyStatic, {
      root: join(buildDir, 'assets'),
      prefix: '/console/assets/',
      decorateReply: false,
      index: false,
      immutable: true,
      maxAge: '365d',
    });
    const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
    scope.get('/console/', sendIndex);
    scope.get('/console/*', sendIndex);
  });
}
