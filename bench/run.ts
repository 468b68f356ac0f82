// `npm run bench -- <suite> [options]`: runs one benchmark suite (bench/suites/<suite>.ts).
// Every suite prints one JSON object per line on stdout —
//   {"bench": "<suite>.<workload>", "system": "weir", "metric": "<name>", "value": <n>, "unit": "<u>"}
// — and a table for people on stderr.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const suitesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'suites');
const available = readdirSync(suitesDir)
  .filter((file) => file.endsWith('.js'))
  .map((file) => file.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- <suite> [options]\nsuites: ${available.join(', ')}`);
  process.exit(name === undefined ? 0 : 2);
}
const suite = (await import(path.join(suitesDir, `${name}.js`))) as { run(args: string[]): Promise<void> };
await suite.run(rest);
