import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Offset } from '../common/branded.js';
import type { Log } from '../storage/log.js';
import { parseLogOptions } from '../storage/log-options.js';
import { MemoryLog } from '../storage/memory-log.js';
import { Limits } from '../common/limits.js';
import { createMessage } from './message.js';
import { encodeMessage } from './message-codec.js';
import { StreamPartition } from './stream-partition.js';

/** A log already holding `count` messages in one batch, counting its reads. */
async function filledLog(count: number): Promise<{ log: Log; reads: () => number }> {
  const log = new MemoryLog(parseLogOptions({}));
  const records = [];
  for (let index = 0; index < count; index++) {
    const message = createMessage({ subject: 'a', body: Buffer.from(`m${index}`) }, 1_000);
    records.push({ timestampMs: 1_000, key: undefined, value: encodeMessage(message) });
  }
  if (records.length > 0) await log.append({ records });
  let reads = 0;
  const read = log.read.bind(log);
  log.read = (fromOffset: Offset, maxBytes: number) => {
    reads++;
    return read(fromOffset, maxBytes);
  };
  return { log, reads: () => reads };
}

test('sequential reads past the tail cache decode a log batch once, then continue from memory', async () => {
  const { log, reads } = await filledLog(3_000);
  const partition = new StreamPartition(0, log, () => undefined);
  let from = 0;
  const bodies: string[] = [];
  while (from < 3_000) {
    const { messages, scannedTo } = await partition.read(from, 500);
    assert.ok(messages.length > 0);
    for (const stored of messages) bodies.push(stored.message.body.toString());
    from = scannedTo;
  }
  assert.equal(bodies.length, 3_000);
  assert.deepEqual(bodies.slice(0, 3), ['m0', 'm1', 'm2']);
  assert.equal(bodies.at(-1), 'm2999');
  assert.equal(reads(), 1, 'one log read serves every sequential read of the batch');
  // A filtered read (redelivery) still takes only what it wants.
  const { messages } = await partition.read(10, 5, (offset) => offset % 2 === 0);
  assert.deepEqual(
    messages.map((stored) => stored.offset),
    [10, 12, 14, 16, 18],
  );
});

test('the tail cache keeps what a tailing reader may still ask for, and drops what it read long ago', async () => {
  const { log, reads } = await filledLog(0);
  const partition = new StreamPartition(0, log, () => undefined);
  // A reader at the tail: each append is read as soon as it is in the log.
  for (let round = 0; round < 30; round++) {
    for (let index = 0; index < 100; index++) {
      partition.enqueue(createMessage({ subject: 'a', body: Buffer.from(`m${round * 100 + index}`) }, 1_000));
    }
    await partition.whenIdle();
    const { messages } = await partition.read(round * 100, 100);
    assert.equal(messages.length, 100);
  }
  assert.equal(reads(), 0, 'the tailing reader is served from the cache');
  const behindMax = Limits.tailCacheBehindReadMessagesMax;
  // Within the kept distance behind the furthest read: still from memory.
  const near = await partition.read(2_900 - behindMax + 100, 1);
  assert.equal(near.messages[0]?.message.body.toString(), `m${2_900 - behindMax + 100}`);
  assert.equal(reads(), 0);
  // Further behind: evicted, so read from the log, and still the right message.
  const far = await partition.read(0, 1);
  assert.equal(far.messages[0]?.message.body.toString(), 'm0');
  assert.equal(reads(), 1, 'messages read long ago are no longer cached');
});
