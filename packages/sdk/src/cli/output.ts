/** Where the CLI writes: stdout for results, stderr for warnings and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.map(cell).join(',') || '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Rows as a table with a header, columns padded to their widest cell. */
export function table(rows: readonly Row[], columns: readonly string[]): string {
  const cells = [columns.map((column) => column.toUpperCase()), ...rows.map((row) => columns.map((column) => cell(row[column])))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index].length)));
  return (
    cells.map((line) => line.map((text, index) => (index === line.length - 1 ? text : text.padEnd(widths[index]))).join('  ')).join('\n') +
    '\n'
  );
}

/** One resource as `field  value` lines. */
export function record(row: Row, fields: readonly string[] = Object.keys(row)): string {
  const width = Math.max(...fields.map((field) => field.length));
  return fields.map((field) => `${field.padEnd(width)}  ${cell(row[field])}`).join('\n') + '\n';
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
