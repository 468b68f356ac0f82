import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryLog } from '../storage/memory-log.js';
import { ConsumerStateLog, type PartitionSnapshot } from './consumer-state-log.js';

test('acks, failed attempts and deletions replay in order', async () => {
  const log = createMemoryLog();
  const { stateLog } = await ConsumerStateLog.open(log);
  stateLog.recordAck('a', 0, 0);
  stateLog.recordAck('a', 0, 1);
  stateLog.recordAck('a', 0, 5);
  stateLog.recordDeliveryFailure('a', 0, 2, 3, 'bad input');
  stateLog.recordAck('b', 1, 7);
  stateLog.recordDeleted('b');
  await stateLog.flush();
  const { states } = await ConsumerStateLog.open(log);
  assert.deepEqual([...states.keys()], ['a']);
  const partition = states.get('a')?.get(0);
  assert.deepEqual(partition?.acked, [
    { start: 0, end: 2 },
    { start: 5, end: 6 },
  ]);
  assert.deepEqual(partition?.counts.get(2), [3, 'bad input']);
});

test('a snapshot too large for one record is split and replays whole', async () => {
  const log = createMemoryLog();
  const { stateLog } = await ConsumerStateLog.open(log);
  const acked = Array.from({ length: 50_000 }, (_, index) => ({
    start: 10 + index * 3,
    end: 11 + index * 3,
  }));
  const counts = new Map<number, number>();
  const errors = new Map<number, string>();
  for (let index = 0; index < 30_000; index++) {
    counts.set(11 + index * 3, 2);
    if (index % 1000 === 0) errors.set(11 + index * 3, `error ${index}`);
  }
  const snapshot: PartitionSnapshot = { partition: 0, floor: 10, acked, counts, errors };
  stateLog.recordAck('c', 0, 1); // overwritten by the snapshot below
  stateLog.recordSnapshot('c', [snapshot]);
  await stateLog.flush();
  const { states } = await ConsumerStateLog.open(log);
  const state = states.get('c')?.get(0);
  assert.equal(state?.floor, 10);
  assert.deepEqual(state?.acked, acked);
  assert.equal(state?.counts.size, 30_000);
  assert.deepEqual(state?.counts.get(11), [2, 'error 0']);
  assert.deepEqual(state?.counts.get(14), [2, undefined]);
});

test('compaction writes every consumer as a snapshot and deletes the segments before it', async () => {
  const log = createMemoryLog({ segmentBytesMax: 4096 });
  const { stateLog } = await ConsumerStateLog.open(log, 8 * 1024);
  let floor = 0;
  stateLog.setSnapshotProvider(() => [
    { consumer: 'c', partitions: [{ partition: 0, floor, acked: [], counts: new Map(), errors: new Map() }] },
  ]);
  for (let round = 0; round < 200; round++) {
    for (let index = 0; index < 20; index++) stateLog.recordAck('c', 0, floor + index * 2);
    floor += 40;
    await stateLog.flush();
  }
  await stateLog.flush();
  assert.ok(stateLog.snapshots > 0);
  assert.ok(log.startOffset > 0, 'old segments deleted');
  assert.ok(log.sizeBytes < 32 * 1024, `log holds ${log.sizeBytes} bytes`);
});
