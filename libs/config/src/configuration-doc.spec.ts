import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { getMetadataStorage } from 'class-validator';

import { DEFAULTS, DEVELOPMENT_SECRETS, EnvSchema } from './env.schema';

const DOC_PATH = join(__dirname, '..', '..', '..', 'docs', 'configuration.md');

interface DocumentedVariable {
  name: string;
  /** The default cell as written: a value in backticks, or words ("dev value; required in production", "unset; …"). */
  defaultCell: string;
}

/** The rows of the table under "## Variables": `| `NAME` | default | meaning |`. */
function documentedVariables(markdown: string): DocumentedVariable[] {
  const section = /^## Variables\n([\s\S]*?)(?=^## )/m.exec(markdown);
  if (!section) throw new Error('docs/configuration.md has no "## Variables" section');
  const rows: DocumentedVariable[] = [];
  for (const line of section[1].split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // A row is ['', name, default, meaning, '']; the header and the --- rule name no variable in backticks.
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    if (name !== undefined) rows.push({ name, defaultCell: cells[2] ?? '' });
  }
  return rows;
}

/** Every variable the schema accepts: each has at least one class-validator constraint. */
function schemaVariables(): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(EnvSchema, '', true, false);
  return [...new Set(metadata.map((entry) => entry.propertyName))].sort();
}

const codeValue = (cell: string): string | undefined => /^`([^`]*)`$/.exec(cell)?.[1];

describe('docs/configuration.md', () => {
  const documented = documentedVariables(readFileSync(DOC_PATH, 'utf8'));
  const byName = new Map(documented.map((row) => [row.name, row]));

  it('lists each variable once', () => {
    const names = documented.map((row) => row.name);

    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it('documents exactly the variables the env schema accepts', () => {
    expect(documented.map((row) => row.name).sort()).toEqual(schemaVariables());
  });

  it('shows the schema default of every variable that has one', () => {
    const shown = Object.fromEntries(
      Object.keys(DEFAULTS)
        .filter((name) => byName.has(name))
        .map((name) => [name, codeValue(byName.get(name)!.defaultCell)]),
    );

    expect(shown).toEqual(DEFAULTS);
  });

  it('shows no value for a variable without a default, and says the development secrets are required in production', () => {
    const withoutDefault = documented.filter((row) => !(row.name in DEFAULTS));
    for (const row of withoutDefault) {
      expect({ name: row.name, value: codeValue(row.defaultCell) }).toEqual({ name: row.name, value: undefined });
      const describesItsAbsence = row.name in DEVELOPMENT_SECRETS ? /^dev value; \*\*required in production\*\*$/ : /^unset\b/;
      expect({ name: row.name, cell: row.defaultCell }).toEqual({ name: row.name, cell: expect.stringMatching(describesItsAbsence) });
    }
    expect(withoutDefault.length).toBeGreaterThan(0);
  });
});
