// A confirmed message survives kill -9 under fsync `always` (DESIGN.md §3).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openCore, tempDir } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-publisher.js');

test('every confirmed publish is in the stream after SIGKILL', async () => {
  const temp = await tempDir();
  try {
    const child = spawn(process.execPath, [fixture, temp.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const confirmed: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`publisher exited early: ${code} ${signal}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        confirmed.push(...lines);
        if (confirmed.length >= 500 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          child.once('exit', () => resolve());
        }
      });
    });
    const core = await openCore({ dataDir: temp.dir });
    try {
      await core.addConsumer('crash', { name: 'check' });
      const session = core.openSession();
      const stored = new Set<string>();
      for (;;) {
        const batch = await session.fetch('crash', 'check', { batch: 1000, expiresMs: 0 });
        if (batch.length === 0) break;
        for (const delivery of batch) {
          stored.add(delivery.message.body.toString());
          session.ack(delivery);
        }
      }
      const missing = confirmed.filter((body) => !stored.has(body));
      assert.deepEqual(missing, [], `${missing.length} of ${confirmed.length} confirmed messages lost`);
    } finally {
      await core.close();
    }
  } finally {
    await temp.remove();
  }
});
