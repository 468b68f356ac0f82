import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/client/index.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { tempDir, until } from './harness.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'broker-process.js');

async function startProcess(dataDir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [fixture, dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /LISTENING (\d+)/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker process exited with ${code}`)));
  });
  return { child, port: listening };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

test('SIGKILL and restart while publishing confirmed messages: nothing confirmed is lost or stored twice', async () => {
  const temp = await tempDir();
  let broker = await startProcess(temp.dir, 0);
  const port = broker.port;
  const client = await connect({
    servers: `127.0.0.1:${port}`,
    reconnectDelayMs: 20,
    reconnectDelayMsMax: 200,
  });
  try {
    await client.admin.addStream({ name: 'ledger', subjects: ['ledger'], fsync: { kind: 'always' } });
    await client.admin.addConsumer('ledger', { name: 'audit' });
    const confirmed = new Set<string>();
    const total = 3_000;
    let killed = false;
    const publishing = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let index = 0; index < total; index++) {
        const id = `m${index}`;
        const done: Promise<void> = client.publishConfirmed('ledger', id, { id }).then(
          () => void confirmed.add(id),
          (error: unknown) => {
            // Every confirmed publish is retried across the restart; none may fail.
            throw error;
          },
        );
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done)).catch(() => undefined);
        if (inFlight.size >= 64) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    await until(() => confirmed.size >= 500, 'first confirms', 20_000);
    await kill(broker.child);
    killed = true;
    broker = await startProcess(temp.dir, port);
    await publishing;
    assert.ok(killed);
    assert.equal(confirmed.size, total);

    // Read everything back: every confirmed id is stored exactly once (the client's
    // idempotent-producer stamps make a re-sent publish a confirmed duplicate).
    const stored = new Set<string>();
    const twice: string[] = [];
    for (;;) {
      const batch = await client.fetch(
        { stream: 'ledger', consumer: 'audit' },
        { batch: 1_000, expiresMs: 200 },
      );
      if (batch.length === 0) break;
      for (const message of batch) {
        if (stored.has(message.string())) twice.push(message.string());
        stored.add(message.string());
        message.ack();
      }
    }
    const missing = [...confirmed].filter((id) => !stored.has(id));
    assert.deepEqual(missing, [], `${missing.length} confirmed messages lost`);
    assert.deepEqual(twice, [], `${twice.length} messages stored twice`);
  } catch (error) {
    if (isWeirError(error, ErrorCode.Closed)) throw new Error(`client gave up: ${(error as Error).message}`);
    throw error;
  } finally {
    await client.close();
    await kill(broker.child);
    await temp.remove();
  }
});
