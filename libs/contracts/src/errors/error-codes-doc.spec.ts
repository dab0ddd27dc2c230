import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CheckRefusals, ErrorCodeEntry, ErrorCodes } from './error-codes';

const DOC_PATH = join(__dirname, '..', '..', '..', '..', 'docs', 'api-conventions.md');

interface DocumentedCode extends ErrorCodeEntry {
  code: string;
}

/** The rows `| `CODE` | status | `kind` | description |` of the first table after `heading`. */
function documentedCodes(markdown: string, heading: string): DocumentedCode[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/api-conventions.md has no "${heading}" heading`);
  const lines = markdown.slice(start + heading.length + 2).split('\n');
  const table = lines.slice(lines.findIndex((line) => line.startsWith('|')));
  const rows: DocumentedCode[] = [];
  for (const line of table) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((cell) => cell.trim());
    // A row is ['', code, status, kind, description, '']; the header and the --- rule have no code in backticks.
    const code = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    const kind = /^`([a-z_]+)`$/.exec(cells[3] ?? '')?.[1];
    if (code === undefined) continue;
    rows.push({ code, status: Number(cells[2]), kind: kind as ErrorCodeEntry['kind'], description: cells[4] ?? '' });
  }
  return rows;
}

/** The table as the catalogue would write it, in the catalogue's order. */
function catalogueRows(table: Record<string, ErrorCodeEntry>): DocumentedCode[] {
  return Object.entries(table).map(([code, entry]) => ({ code, status: entry.status, kind: entry.kind, description: entry.description }));
}

describe('docs/api-conventions.md', () => {
  const markdown = readFileSync(DOC_PATH, 'utf8');

  it('lists every error code of the catalogue, with its status, kind and description, and no other', () => {
    expect(documentedCodes(markdown, '## Error codes')).toEqual(catalogueRows(ErrorCodes));
  });

  it('lists every refusal of GET /v1/check as CheckRefusals answers it', () => {
    expect(documentedCodes(markdown, '### `GET /v1/check` refusals')).toEqual(catalogueRows(CheckRefusals));
  });
});
