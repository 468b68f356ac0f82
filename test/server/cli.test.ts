// The `weir` command line, as a user runs it: help, argument errors, configuration errors,
// and `weir passwd`.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { verifyPassword } from '../../src/core/auth.js';
import { runWeir } from './weir-process.js';

let directory: string;
before(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'weir-cli-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

test('weir --help lists the commands', async () => {
  const weir = runWeir(['--help']);
  assert.equal(await weir.exited, 0);
  for (const command of ['serve', 'pub', 'sub', 'request', 'stream', 'consumer', 'dlq', 'bench', 'passwd']) {
    assert.match(weir.stdout(), new RegExp(`\\n  ${command}\\b`));
  }
});

test('weir serve refuses a bad configuration file, naming the field, exit 2', async () => {
  const file = path.join(directory, 'bad.yaml');
  await writeFile(file, 'protocols:\n  mqtt:\n    port: 99999\n');
  const weir = runWeir(['serve', '--config', file, '--data-dir', path.join(directory, 'data')]);
  assert.equal(await weir.exited, 2);
  assert.match(weir.stderr(), /protocols\.mqtt\.port must be an integer from 0 to 65535, got 99999/);
});

test('weir serve refuses a bad environment variable and a bad flag', async () => {
  const fromEnvironment = runWeir(['serve'], { env: { WEIR_HTTP_PORT: 'eighty' } });
  assert.equal(await fromEnvironment.exited, 2);
  assert.match(fromEnvironment.stderr(), /WEIR_HTTP_PORT must be an integer/);
  const fromFlag = runWeir(['serve', '--log-level', 'loud']);
  assert.notEqual(await fromFlag.exited, 0);
  assert.match(fromFlag.stderr(), /--log-level/);
});

test('client commands reject bad arguments naming the option', async () => {
  const weir = runWeir(['pub', 'a.b', 'x', '--priority', '12']);
  assert.notEqual(await weir.exited, 0);
  assert.match(weir.stderr(), /--priority/);
});

test('weir passwd prints a users-file line whose hash verifies the password from stdin', async () => {
  const weir = runWeir(['passwd', 'alice'], { input: 'wonderland\n' });
  assert.equal(await weir.exited, 0);
  const line = weir.stdout().trim();
  assert.match(line, /^alice:scrypt\$/);
  const hash = line.slice('alice:'.length);
  assert.equal(await verifyPassword('wonderland', hash), true);
  assert.equal(await verifyPassword('wonderland\n', hash), false);
});
