import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { createDuplexPair } from './duplex-pair.js';

test('what one end writes the other reads, both ways, and end() ends the other side', async () => {
  const [left, right] = createDuplexPair();
  left.write('ping');
  assert.equal(((await once(right, 'data')) as [Buffer])[0].toString(), 'ping');
  right.write('pong');
  assert.equal(((await once(left, 'data')) as [Buffer])[0].toString(), 'pong');
  right.resume();
  left.end();
  await once(right, 'end');
});

test('backpressure: a write completes only once the reader takes the data', async () => {
  const [left, right] = createDuplexPair();
  const chunk = Buffer.alloc(64 * 1024, 1);
  let completed = 0;
  for (let index = 0; index < 8; index++) left.write(chunk, () => completed++);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(completed < 8, `writes wait for the reader (completed ${completed})`);
  let received = 0;
  right.on('data', (data: Buffer) => (received += data.length));
  await new Promise<void>((resolve) => left.write(Buffer.alloc(0), () => resolve()));
  assert.equal(completed, 8);
  assert.equal(received, 8 * chunk.length);
});

test('destroying one end ends the other', async () => {
  const [left, right] = createDuplexPair();
  right.resume();
  const ended = once(right, 'end');
  left.destroy();
  await ended;
});
