import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Offset } from '../common/branded.js';
import { openFileLog } from '../storage/file-log.js';
import type { BatchInput, Log } from '../storage/log.js';
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

test('fsync always, two appends in flight: confirms come in offset order, each once an fsync covers it', async () => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-partition-'));
  try {
    const log = await openFileLog(directory, { fsync: { kind: 'always' } });
    let inFlight = 0;
    let inFlightMax = 0;
    const append = log.append.bind(log);
    log.append = (batch: BatchInput) => {
      inFlight++;
      inFlightMax = Math.max(inFlightMax, inFlight);
      return append(batch).finally(() => inFlight--);
    };
    const handed: number[] = [];
    const partition = new StreamPartition(0, log, (_partition, stored) => {
      for (const entry of stored) handed.push(entry.offset);
    });
    const confirmed: number[] = [];
    const problems: string[] = [];
    const total = 12_000;
    for (let round = 0; round < 6; round++) {
      for (let index = 0; index < total / 6; index++) {
        const message = createMessage({ subject: 'a.b', body: Buffer.from(`m${confirmed.length}`) }, 1_000);
        partition.enqueue(message, (error, _partition, offset) => {
          if (error !== undefined) problems.push(error.message);
          if (offset !== confirmed.length)
            problems.push(`offset ${offset} confirmed in place ${confirmed.length}`);
          if (log.committedOffset <= offset) problems.push(`offset ${offset} confirmed before its fsync`);
          confirmed.push(offset);
        });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await partition.whenIdle();
    assert.deepEqual(problems, []);
    assert.equal(confirmed.length, total);
    assert.deepEqual(handed, confirmed);
    assert.equal(inFlightMax, 2, 'the next batch was written while the previous waited for its fsync');
    await partition.close();
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
});

test('messages queued together whose timestamps lie more than 24 days apart are all stored', async () => {
  // A delayed message is appended when due with the timestamp of its publish, which may be
  // months before the fresh messages queued with it; a batch holds record timestamps within
  // 2^31 - 1 ms of its first.
  const log = new MemoryLog(parseLogOptions({}));
  const partition = new StreamPartition(0, log, () => undefined);
  const nowMs = 1_800_000_000_000;
  const dayMs = 86_400_000;
  const timestamps = [nowMs - 90 * dayMs, nowMs, nowMs - 30 * dayMs, nowMs - 30 * dayMs, nowMs];
  const results = await Promise.all(
    timestamps.map(
      (timestampMs, index) =>
        new Promise<string>((resolve) => {
          const message = createMessage({ subject: 'a', body: Buffer.from(`m${index}`) }, timestampMs);
          partition.enqueue(message, (error, _partition, offset) =>
            resolve(error === undefined ? `stored at ${offset}` : error.message),
          );
        }),
    ),
  );
  assert.deepEqual(
    results,
    timestamps.map((_timestamp, index) => `stored at ${index}`),
  );
  const { messages } = await partition.read(0, 10);
  assert.deepEqual(
    messages.map((stored) => stored.message.timestampMs),
    timestamps,
  );
  const batches = await log.read(Offset(0), 1024 * 1024);
  for (const record of batches.flatMap((batch) => [...batch.records()])) {
    assert.equal(record.timestampMs, timestamps[record.offset]);
  }
});
