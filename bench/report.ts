// The result line every benchmark prints, and the table for people.

export interface BenchResult {
  readonly bench: string;
  readonly system: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}

export function emit(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function printTable(results: readonly BenchResult[]): void {
  const rows = results.map((result) => [
    result.bench,
    result.system,
    result.metric,
    formatNumber(result.value),
    result.unit,
  ]);
  const header = ['bench', 'system', 'metric', 'value', 'unit'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === 3 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ');
  process.stderr.write(`${line(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const row of rows) process.stderr.write(`${line(row)}\n`);
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
