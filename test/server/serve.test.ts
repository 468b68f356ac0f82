// A real `weir serve` process: started on port 0 with a ports file, reached over HTTP,
// stopped with SIGTERM (exit 0, clean shutdown logged, ports file removed) or SIGINT.

import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runWeir, waitForPorts, type WeirProcess } from './weir-process.js';

let directory: string;
const started: WeirProcess[] = [];

before(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'weir-serve-'));
});

after(async () => {
  // Only the processes this file started, by handle, and only if a test left one running.
  for (const weir of started)
    if (weir.child.exitCode === null && weir.child.signalCode === null) weir.child.kill('SIGKILL');
  await rm(directory, { recursive: true, force: true });
});

function serve(
  name: string,
  extra: readonly string[] = [],
): { weir: WeirProcess; portsFile: string; dataDir: string } {
  const dataDir = path.join(directory, name, 'data');
  const portsFile = path.join(directory, `${name}-ports.json`);
  const weir = runWeir([
    'serve',
    '--data-dir',
    dataDir,
    '--native-port',
    '0',
    '--mqtt-port',
    '0',
    '--stomp-port',
    '0',
    '--http-port',
    '0',
    '--ports-file',
    portsFile,
    ...extra,
  ]);
  started.push(weir);
  return { weir, portsFile, dataDir };
}

function logRecords(stdout: string): { msg: string; level: string }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; level: string });
}

test('weir serve listens on port 0, answers /healthz, and exits 0 on SIGTERM', async () => {
  const { weir, portsFile } = serve('sigterm');
  const ports = await waitForPorts(portsFile, weir);
  assert.ok((ports.http ?? 0) > 0, 'the HTTP port is reported');
  const response = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { status: string }).status, 'ok');

  assert.ok(weir.child.kill('SIGTERM'));
  assert.equal(await weir.exited, 0);
  const messages = logRecords(weir.stdout()).map((record) => record.msg);
  for (const expected of [
    'weir is ready',
    'signal received: shutting down',
    'core closed: data flushed',
    'shutdown complete',
  ]) {
    assert.ok(messages.includes(expected), `logged "${expected}"; got ${JSON.stringify(messages)}`);
  }
  await assert.rejects(access(portsFile), 'the ports file is removed on exit');
  await assert.rejects(fetch(`http://127.0.0.1:${ports.http}/healthz`), 'nothing listens any more');
});

test('weir serve exits 0 on SIGINT too', async () => {
  const { weir, portsFile } = serve('sigint', ['--log-level', 'warn']);
  await waitForPorts(portsFile, weir);
  weir.child.kill('SIGINT');
  assert.equal(await weir.exited, 0);
  assert.equal(logRecords(weir.stdout()).length, 0, 'warn level hides info records');
});
