import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// `npx weir` runs the package's bin through a link to the built CLI: the build must leave it
// executable, or a fresh clone gets "Permission denied".
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/server/cli.js');

test('the built weir CLI is executable and runs by its shebang', () => {
  assert.notEqual(statSync(cli).mode & 0o111, 0, `${cli} is not executable`);
  const result = spawnSync(cli, ['--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /serve/);
});
