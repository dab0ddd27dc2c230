import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { compilePathGlob, parsePathGlob, PathGlobAutomaton, pathGlobRegExp } from './path-glob';

/** mulberry32, so a failing case names a seed that replays it. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('compilePathGlob with several wildcards', () => {
  it('means exactly what the regex form means, on every pattern and path tried', () => {
    const random = seeded(20261203);
    const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
    const differences: string[] = [];
    for (let round = 0; round < 4_000; round += 1) {
      const pattern =
        '/' + Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(['a', 'b', '/', '.', '*', '{id}', ';'])).join('');
      const parts = parsePathGlob(pattern);
      if (parts === null) continue;
      const automaton = new PathGlobAutomaton(parts);
      const regex = pathGlobRegExp(parts);
      for (let probe = 0; probe < 25; probe += 1) {
        const path = '/' + Array.from({ length: Math.floor(random() * 9) }, () => pick(['a', 'b', '/', '.', ';'])).join('');
        if (automaton.test(path) !== regex.test(path)) differences.push(`${pattern} on ${path}: regex says ${regex.test(path)}`);
      }
    }
    expect(differences.slice(0, 10)).toEqual([]);
  });

  it('keeps wildcards off dot segments and empty segments', () => {
    const both = compilePathGlob('/v1/*/items/{id}');
    expect(both).toBeInstanceOf(PathGlobAutomaton);
    expect(both.test('/v1/a/b/items/42')).toBe(true);
    for (const path of ['/v1/../items/42', '/v1/a/items/..', '/v1//items/42', '/v1/a/items/', '/v1/a/items/4/2', '/v1/./items/4']) {
      expect(both.test(path)).toBe(false);
    }
    expect(compilePathGlob('/v1/*.json*').test('/v1/a/b.json/x')).toBe(true);
    expect(compilePathGlob('/v1/{a}-{b}').test('/v1/x-y')).toBe(true);
    expect(compilePathGlob('/v1/{a}-{b}').test('/v1/x/-y')).toBe(false);
  });

  it('answers at once for a pattern a backtracking regex would take minutes on', () => {
    // Run where a hang can be cut short: a backtracking regex cannot be interrupted in-process.
    const script = `
      const { compilePathGlob } = require(${JSON.stringify(join(__dirname, 'path-glob.ts'))});
      const path = '/' + 'a'.repeat(4096);
      process.stdout.write(JSON.stringify([compilePathGlob('/*a*a*a*a*a*b').test(path), compilePathGlob('/{x}{y}{z}{w}b').test(path)]));
    `;
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect({ signal: run.signal, stderr: run.stderr }).toEqual({ signal: null, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual([false, false]);
  });
});
