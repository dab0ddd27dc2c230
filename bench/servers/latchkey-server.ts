import 'reflect-metadata';

import { monitorEventLoopDelay } from 'node:perf_hooks';

import { loadConfig } from '@latchkey/config';

import { createLatchkeyApp } from '../../apps/latchkey/src/create-app';
import { announceListening } from './child-protocol';

/** A Latchkey process configured by the parent (BENCH_CONFIG, JSON), on a free port of 127.0.0.1. */
async function main(): Promise<void> {
  const overrides = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Record<string, string>;
  const app = await createLatchkeyApp(loadConfig(overrides));
  await app.listen({ port: 0, host: '127.0.0.1' });
  announceListening(app);
  answerEventLoopDelay();
}

/**
 * The bench's probe of this process's event loop, over IPC only: a 1 ms timer samples how
 * late each turn starts, which costs the check path nothing (it lives in the bench server).
 * `loop-delay-reset` starts a window; `loop-delay` answers its p50/p99/max in ms.
 */
function answerEventLoopDelay(): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'loop-delay-reset') {
      histogram.reset();
      process.send?.({ type: 'loop-delay-reset' });
    } else if (message?.type === 'loop-delay') {
      process.send?.({
        type: 'loop-delay',
        p50Ms: histogram.percentile(50) / 1e6,
        p99Ms: histogram.percentile(99) / 1e6,
        maxMs: histogram.max / 1e6,
      });
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
