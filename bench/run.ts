// `npm run bench` runs the harness's quick profile: every workload against Weir and the
// peers a user would pick instead (bench/harness/), then writes bench/REPORT.md.
// `npm run bench -- --full` runs the full profile; `npm run bench -- setup` installs the
// peers; `npm run bench -- <suite> [options]` runs one suite (bench/suites/<suite>.ts).
// Every suite prints one JSON object per line on stdout —
//   {"bench": "<suite>.<workload>", "system": "weir", "metric": "<name>", "value": <n>, "unit": "<u>"}
// — and a table for people on stderr.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { harnessUsage, parseHarnessArgs, runHarness } from './harness/harness.js';
import { runSetup } from './harness/setup.js';

const suitesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'suites');
const available = existsSync(suitesDir)
  ? readdirSync(suitesDir)
      .filter((file) => file.endsWith('.js'))
      .map((file) => file.slice(0, -3))
      .sort()
  : [];

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name.startsWith('--')) {
  try {
    process.exitCode = await runHarness(parseHarnessArgs(process.argv.slice(2)));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
  }
} else if (name === 'setup') {
  process.exitCode = await runSetup();
} else if (name === 'help') {
  console.error(`${harnessUsage}\n       npm run bench -- setup\n       npm run bench -- <suite> [options]`);
  console.error(`suites: ${available.join(', ') || '(none yet)'}`);
} else if (!available.includes(name)) {
  console.error(`unknown suite ${name}\nsuites: ${available.join(', ') || '(none yet)'}\n${harnessUsage}`);
  process.exitCode = 2;
} else {
  const suite = (await import(path.join(suitesDir, `${name}.js`))) as { run(args: string[]): Promise<void> };
  await suite.run(rest);
}
