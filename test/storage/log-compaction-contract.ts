// The compaction part of the Log contract (compaction.ts): run against FileLog and MemoryLog
// by log-contract.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Offset } from '../../src/common/branded.js';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import type { CompactionOptions, Log, LogOptions, LogRecord } from '../../src/storage/log.js';
import { BatchFlags } from '../../src/storage/log.js';
import type { LogHarness } from './log-contract.js';
import { readAll } from './log-contract.js';

/** Every stored record, in order. */
export async function readRecords(log: Log, fromOffset: number = log.startOffset): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for (const batch of await readAll(log, Offset(fromOffset))) {
    for (const record of batch.records()) if (record.offset >= fromOffset) records.push(record);
  }
  return records;
}

function keyed(key: string, value: string, timestampMs?: number) {
  return {
    records: [
      {
        key: Buffer.from(key),
        value: Buffer.from(value),
        ...(timestampMs === undefined ? {} : { timestampMs }),
      },
    ],
  };
}

function describeRecords(records: readonly LogRecord[]): string[] {
  return records.map(
    (record) => `${record.offset}:${record.key?.toString() ?? '-'}=${record.value.toString()}`,
  );
}

const compactNow = (nowMs: number, extra: Partial<CompactionOptions> = {}): CompactionOptions => ({
  tombstoneRetentionMs: 1_000,
  dirtyRatioMin: 0,
  nowMs,
  ...extra,
});

export function runCompactionContract(harness: LogHarness): void {
  describe(`Log compaction contract: ${harness.name}`, () => {
    const options: LogOptions = { fsync: { kind: 'always' }, segmentBytesMax: 1024, indexIntervalBytes: 128 };

    test('keeps the latest record per key in sealed segments, offsets kept, reads skip the gaps', async () => {
      const clock = new ManualClock(10_000);
      const log = await harness.create({ ...options, clock });
      const written: string[] = [];
      await log.append(keyed('once', 'written once, kept at offset 0'));
      for (let round = 0; round < 40; round++) {
        for (const key of ['a', 'b', 'c']) {
          await log.append(keyed(key, `${key}${round}-${'x'.repeat(20)}`));
          written.push(key);
        }
      }
      await log.append({ records: [{ value: Buffer.from('no key') }] });
      const activeBase = log.activeSegmentBaseOffset;
      const nextOffset = log.nextOffset;
      const segmentsBefore = log.segmentCount;
      const bytesBefore = log.sizeBytes;
      const before = await readRecords(log);
      assert.ok(segmentsBefore > 4, `several segments (${segmentsBefore})`);

      const result = await log.compact(compactNow(clock.nowMs()));
      assert.equal(result.compacted, true);
      assert.equal(result.dirtyRatio, 1);
      assert.ok(result.recordsRemoved > 0);
      assert.ok(result.bytesAfter < result.bytesBefore);
      assert.equal(log.nextOffset, nextOffset, 'appends continue where they were');
      assert.equal(log.startOffset, 0);
      assert.ok(log.segmentCount < segmentsBefore, 'small compacted segments merge');
      assert.ok(log.sizeBytes < bytesBefore);

      const after = await readRecords(log);
      const offsets = after.map((record) => record.offset);
      assert.deepEqual(
        offsets,
        [...offsets].sort((left, right) => left - right),
      );
      assert.equal(new Set(offsets).size, offsets.length, 'offsets are unique');
      // Below the active segment: one record per key, each its key's latest there.
      const sealed = after.filter((record) => record.offset < activeBase);
      const lastSealedByKey = new Map<string, number>();
      for (const record of before) {
        if (record.offset < activeBase) lastSealedByKey.set(record.key!.toString(), record.offset);
      }
      assert.deepEqual(
        sealed.map((record) => record.offset),
        [...lastSealedByKey.values()].sort((left, right) => left - right),
      );
      // The active segment is untouched, and every record kept is byte for byte the same.
      const beforeByOffset = new Map(before.map((record) => [record.offset, record] as const));
      for (const record of after) {
        const original = beforeByOffset.get(record.offset)!;
        assert.ok(original.value.equals(record.value) && original.timestampMs === record.timestampMs);
        assert.deepEqual(original.key, record.key);
      }
      assert.deepEqual(
        describeRecords(after.filter((record) => record.offset >= activeBase)),
        describeRecords(before.filter((record) => record.offset >= activeBase)),
      );
      // A read from any offset starts at the next one stored (the gaps lie inside segments,
      // at their starts and ends).
      for (let offset = 0; offset < nextOffset; offset++) {
        const read = await log.read(Offset(offset), 256);
        const first = read.flatMap((batch) => [...batch.records()]).find((record) => record.offset >= offset);
        assert.equal(
          first?.offset,
          offsets.find((kept) => kept >= offset),
          `read from ${offset}`,
        );
      }
      // Appends after compaction go on as usual.
      const appended = await log.append(keyed('a', 'after'));
      assert.equal(appended.baseOffset, nextOffset);
      await log.close();
    });

    test('a tombstone deletes its key and is dropped itself once older than its retention', async () => {
      const clock = new ManualClock(50_000);
      const log = await harness.create({ ...options, clock });
      const filler = (index: number) => keyed(`filler-${index}`, 'f'.repeat(200));
      await log.append(keyed('gone', 'value-1'));
      await log.append(keyed('kept', 'value-1'));
      await log.append(keyed('gone', 'value-2'));
      await log.append({ records: [{ key: Buffer.from('gone'), value: Buffer.alloc(0) }] });
      for (let index = 0; index < 12; index++) await log.append(filler(index));
      const tombstoneOffset = 3;

      await log.compact(compactNow(clock.nowMs()));
      let records = await readRecords(log);
      const gone = records.filter((record) => record.key?.toString() === 'gone');
      assert.deepEqual(
        gone.map((record) => record.offset),
        [tombstoneOffset],
        'only the tombstone of the deleted key stays while it is young',
      );
      assert.equal(records.filter((record) => record.key?.toString() === 'kept').length, 1);

      clock.advance(1_000);
      const result = await log.compact(compactNow(clock.nowMs()));
      assert.equal(result.compacted, true);
      records = await readRecords(log);
      assert.equal(
        records.filter((record) => record.key?.toString() === 'gone').length,
        0,
        'tombstone dropped',
      );
      assert.deepEqual(
        records
          .filter((record) => record.key?.toString() === 'kept')
          .map((record) => record.value.toString()),
        ['value-1'],
      );
      await log.close();
    });

    test('the dirty ratio decides whether a run happens', async () => {
      const clock = new ManualClock(1_000);
      const log = await harness.create({ ...options, clock });
      for (let index = 0; index < 30; index++) await log.append(keyed(`k${index % 3}`, 'v'.repeat(100)));
      assert.equal((await log.compact(compactNow(clock.nowMs(), { dirtyRatioMin: 0.5 }))).compacted, true);
      const again = await log.compact(compactNow(clock.nowMs(), { dirtyRatioMin: 0.5 }));
      assert.equal(again.compacted, false, 'nothing dirty: no run');
      assert.equal(again.dirtyRatio, 0);
      // Only empty sealed space: a log with one segment has nothing to compact.
      const single = await harness.create({ ...options, clock });
      await single.append(keyed('k', 'v'));
      assert.equal((await single.compact(compactNow(clock.nowMs()))).compacted, false);
      await single.close();
      await log.close();
    });

    test('custom key and tombstone functions, producer fields and flags carried over', async () => {
      const clock = new ManualClock(1_000);
      const log = await harness.create({ ...options, clock });
      // The key is the value's first byte; a value ending in '!' is a tombstone.
      const keyOf = (record: LogRecord): Buffer | undefined =>
        record.value.length === 0 ? undefined : record.value.subarray(0, 1);
      const isTombstone = (record: LogRecord): boolean => record.value.at(-1) === 0x21;
      await log.append({
        records: ['a1', 'b1', 'a2', 'c1', 'b2!'].map((text) => ({ value: Buffer.from(text) })),
        producerId: 7n,
        producerEpoch: 2,
        baseSequence: 10,
        flags: BatchFlags.transactional,
      });
      for (let index = 0; index < 20; index++)
        await log.append({ records: [{ value: Buffer.from(`z${'.'.repeat(100)}`) }] });
      await log.compact(compactNow(clock.nowMs(), { keyOf, isTombstone, tombstoneRetentionMs: 60_000 }));
      const batches = (await readAll(log)).filter((batch) => batch.baseOffset < 5);
      assert.deepEqual(
        batches.map((batch) => [batch.baseOffset, batch.lastOffset, batch.baseSequence]),
        [[2, 4, 12]],
        'a2, c1, b2! are one run, its sequence moved along',
      );
      const batch = batches[0]!;
      assert.equal(batch.producerId, 7n);
      assert.equal(batch.producerEpoch, 2);
      assert.equal(batch.flags, BatchFlags.transactional | BatchFlags.compacted);
      assert.deepEqual(
        [...batch.records()].map((record) => record.value.toString()),
        ['a2', 'c1', 'b2!'],
      );
      await log.close();
    });

    test('compaction options are checked', async () => {
      const log = await harness.create(options);
      for (const bad of [
        { tombstoneRetentionMs: -1, dirtyRatioMin: 0, nowMs: 0 },
        { tombstoneRetentionMs: 0, dirtyRatioMin: 1.5, nowMs: 0 },
        { tombstoneRetentionMs: 0, dirtyRatioMin: Number.NaN, nowMs: 0 },
        { tombstoneRetentionMs: 0, dirtyRatioMin: 0, nowMs: 0.5 },
      ]) {
        await assert.rejects(log.compact(bad), (error: unknown) =>
          isWeirError(error, ErrorCode.InvalidArgument),
        );
      }
      await log.close();
      await assert.rejects(log.compact(compactNow(0)), (error: unknown) =>
        isWeirError(error, ErrorCode.LogClosed),
      );
    });

    test('retention and offsetForTimestamp work on a compacted log', async () => {
      const clock = new ManualClock(1_000);
      const log = await harness.create({ ...options, clock });
      for (let index = 0; index < 40; index++) {
        await log.append(keyed(`k${index % 4}`, 'v'.repeat(60), 1_000 + index * 10));
      }
      await log.compact(compactNow(clock.nowMs()));
      const records = await readRecords(log);
      const stamp = 1_000 + 5 * 10;
      const expected = records.find((record) => record.timestampMs >= stamp)!.offset;
      assert.equal(await log.offsetForTimestamp(stamp), expected);
      const lastSealed = log.activeSegmentBaseOffset;
      await log.deleteBefore(lastSealed);
      assert.equal(log.startOffset, lastSealed);
      assert.deepEqual(
        (await readRecords(log)).map((record) => record.offset),
        records.filter((record) => record.offset >= lastSealed).map((record) => record.offset),
      );
      await log.close();
    });

    const reopen = harness.reopen;
    if (reopen !== undefined) {
      test('a compacted log reopens with the same records, and compacts again', async () => {
        const clock = new ManualClock(1_000);
        let log = await harness.create({ ...options, clock });
        for (let index = 0; index < 60; index++)
          await log.append(keyed(`k${index % 5}`, `v${index}-${'.'.repeat(40)}`));
        await log.compact(compactNow(clock.nowMs()));
        const records = describeRecords(await readRecords(log));
        const { startOffset, nextOffset, segmentCount, sizeBytes } = log;
        log = await reopen(log, { ...options, clock });
        assert.deepEqual(describeRecords(await readRecords(log)), records);
        assert.deepEqual(
          [log.startOffset, log.nextOffset, log.segmentCount, log.sizeBytes],
          [startOffset, nextOffset, segmentCount, sizeBytes],
        );
        for (let index = 60; index < 120; index++)
          await log.append(keyed(`k${index % 5}`, `v${index}-${'.'.repeat(40)}`));
        await log.compact(compactNow(clock.nowMs()));
        const compactedAgain = await readRecords(log);
        log = await reopen(log, { ...options, clock });
        assert.deepEqual(describeRecords(await readRecords(log)), describeRecords(compactedAgain));
        await log.close();
      });
    }
  });
}
