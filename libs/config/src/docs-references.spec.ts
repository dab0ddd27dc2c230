import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** A product contract outside the repository, cited by section; the docs pages say what the code relies on instead. */
const OUTSIDE_CONTRACT = /SPEC\s*§/;

/** `docs/<path>` with an optional `#anchor`, not when it is part of a longer path or a URL (`/docs/`, `docs.example`). */
const DOCS_REFERENCE = /(?<![\w./-])(docs\/[\w.-]+(?:\/[\w.-]+)*)(?:#([\p{L}\p{N}_-]+))?/gu;

/** A Markdown link's target: `[text](target)` or `[text](target "title")`. */
const MARKDOWN_LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

interface Reference {
  file: string;
  line: number;
  target: string;
  anchor?: string;
}

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(ROOT, file)) && statSync(join(ROOT, file)).isFile());
}

function textOf(file: string): string | undefined {
  const content = readFileSync(join(ROOT, file));
  return content.includes(0) ? undefined : content.toString('utf8');
}

/** GitHub's heading anchor: lower case, punctuation dropped (inline code and link text kept), each space a hyphen. */
function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file has: one per heading outside fenced code, repeated headings numbered as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const fenceMark = /^\s*(```|~~~)/.exec(line)?.[1];
    if (fenceMark !== undefined) {
      if (fence === undefined) fence = fenceMark;
      else if (fence === fenceMark) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = headingSlug(heading);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOfFile(path: string): Set<string> {
  let anchors = anchorCache.get(path);
  if (anchors === undefined) {
    anchors = anchorsOf(readFileSync(path, 'utf8'));
    anchorCache.set(path, anchors);
  }
  return anchors;
}

/** The references that do not resolve: a missing file, or an anchor that is no heading of the page. */
function broken(references: Reference[], resolve: (reference: Reference) => string): string[] {
  const problems: string[] = [];
  for (const reference of references) {
    const path = resolve(reference);
    const where = `${reference.file}:${reference.line}`;
    const shown = reference.anchor === undefined ? reference.target : `${reference.target}#${reference.anchor}`;
    if (!existsSync(path)) problems.push(`${where}: ${shown} does not exist`);
    else if (reference.anchor !== undefined && path.endsWith('.md') && !anchorsOfFile(path).has(reference.anchor)) {
      problems.push(`${where}: ${relative(ROOT, path)} has no heading #${reference.anchor}`);
    }
  }
  return problems;
}

function linesOf(
  file: string,
  text: string,
  pattern: RegExp,
  read: (match: RegExpExecArray) => Omit<Reference, 'file' | 'line'> | undefined,
): Reference[] {
  const references: Reference[] = [];
  text.split('\n').forEach((line, index) => {
    for (const match of line.matchAll(pattern)) {
      const reference = read(match);
      if (reference !== undefined) references.push({ file, line: index + 1, ...reference });
    }
  });
  return references;
}

describe('references to the docs', () => {
  const files = trackedFiles()
    .map((file) => ({ file, text: textOf(file) }))
    .filter((entry): entry is { file: string; text: string } => entry.text !== undefined);

  it('finds the tracked files', () => {
    expect(files.map((entry) => entry.file)).toEqual(expect.arrayContaining(['docs/architecture.md', 'libs/config/src/env.schema.ts']));
  });

  it('cites no section of a contract outside the repository', () => {
    const citing = files.flatMap(({ file, text }) =>
      text.split('\n').flatMap((line, index) => (OUTSIDE_CONTRACT.test(line) ? [`${file}:${index + 1}`] : [])),
    );

    expect(citing).toEqual([]);
  });

  it('names only docs pages and headings that exist when it names a docs/ path', () => {
    const references = files.flatMap(({ file, text }) =>
      linesOf(file, text, DOCS_REFERENCE, (match) => ({ target: match[1].replace(/\.+$/, ''), anchor: match[2] })),
    );

    expect(broken(references, (reference) => join(ROOT, reference.target))).toEqual([]);
    expect(references.length).toBeGreaterThan(0);
  });

  it('links Markdown pages only to files and headings that exist', () => {
    const references = files
      .filter(({ file }) => file.endsWith('.md'))
      .flatMap(({ file, text }) =>
        linesOf(file, text, MARKDOWN_LINK, (match) => {
          const [target, anchor] = match[1].split('#', 2);
          if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: and the like
          return { target: target === '' ? file : join(dirname(file), target), anchor };
        }),
      );

    expect(broken(references, (reference) => join(ROOT, reference.target))).toEqual([]);
    expect(references.length).toBeGreaterThan(0);
  });
});

describe(headingSlug.name, () => {
  it.each([
    ['Redis for the queues', 'redis-for-the-queues'],
    ["A key's life", 'a-keys-life'],
    ['`GET /v1/check` refusals', 'get-v1check-refusals'],
    ['Usage, logs and alerts', 'usage-logs-and-alerts'],
    ['0001. A front door', '0001-a-front-door'],
    ['See [the log](performance.md)', 'see-the-log'],
  ])('%s → %s', (heading, slug) => {
    expect(headingSlug(heading)).toBe(slug);
  });
});

describe(anchorsOf.name, () => {
  it('numbers repeated headings and skips fenced code', () => {
    const markdown = ['# Title', '## Notes', '```sh', '# not a heading', '```', '## Notes'].join('\n');

    expect([...anchorsOf(markdown)]).toEqual(['title', 'notes', 'notes-1']);
  });
});
