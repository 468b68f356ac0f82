// The contract every Log implementation keeps (STYLE.md: one seam, one contract suite).
// log-contract.test.ts runs it against FileLog and MemoryLog.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Offset } from '../../src/common/branded.js';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { Limits } from '../../src/common/limits.js';
import type { BatchInput, Log, LogOptions, RecordBatch } from '../../src/storage/log.js';
import { BatchFlags } from '../../src/storage/log.js';

export interface LogHarness {
  readonly name: string;
  /** Opens a fresh, empty log. */
  create(options: LogOptions): Promise<Log>;
  /** Closes `log` and opens it again from what it stored; undefined when it cannot. */
  reopen: ((log: Log, options: LogOptions) => Promise<Log>) | undefined;
  /** Removes everything `create` made. */
  dispose(): Promise<void>;
}

export function value(text: string): Buffer {
  return Buffer.from(text);
}

/** A batch of `count` records `prefix-0` … with no key. */
export function textBatch(prefix: string, count: number, timestampMs?: number): BatchInput {
  return {
    records: Array.from({ length: count }, (_, index) =>
      timestampMs === undefined
        ? { value: value(`${prefix}-${index}`) }
        : { value: value(`${prefix}-${index}`), timestampMs },
    ),
  };
}

export async function readAll(log: Log, fromOffset = log.startOffset): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  let offset: number = fromOffset;
  for (;;) {
    const read = await log.read(Offset(offset), 64 * 1024);
    if (read.length === 0) return batches;
    for (const batch of read) {
      if (batch.lastOffset < offset) continue;
      batches.push(batch);
      offset = batch.lastOffset + 1;
    }
  }
}

export async function readValues(log: Log, fromOffset = log.startOffset): Promise<string[]> {
  const values: string[] = [];
  for (const batch of await readAll(log, fromOffset)) {
    for (const record of batch.records())
      if (record.offset >= fromOffset) values.push(record.value.toString());
  }
  return values;
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => isWeirError(error) && error.code === code);
}

export function runLogContract(harness: LogHarness): void {
  describe(`Log contract: ${harness.name}`, () => {
    const open = async (options: LogOptions = {}): Promise<Log> =>
      harness.create({ fsync: { kind: 'always' }, ...options });

    test('appends take dense offsets and read back byte for byte', async () => {
      const clock = new ManualClock(1_000);
      const log = await open({ clock });
      assert.equal(log.startOffset, 0);
      assert.equal(log.nextOffset, 0);
      const first = await log.append({
        records: [
          { value: value('a'), key: value('k1'), timestampMs: 5 },
          { value: Buffer.alloc(0), timestampMs: 3 },
          { value: value('c') },
        ],
        producerId: 42n,
        producerEpoch: 3,
        baseSequence: 7,
        flags: BatchFlags.transactional,
      });
      assert.deepEqual(first, { baseOffset: 0, lastOffset: 2 });
      const second = await log.append(textBatch('b', 2));
      assert.deepEqual(second, { baseOffset: 3, lastOffset: 4 });
      assert.equal(log.nextOffset, 5);
      assert.equal(log.committedOffset, 5);

      const batches = await readAll(log);
      assert.equal(batches.length, 2);
      const batch = batches[0]!;
      assert.equal(batch.baseOffset, 0);
      assert.equal(batch.lastOffset, 2);
      assert.equal(batch.recordCount, 3);
      assert.equal(batch.firstTimestampMs, 5);
      assert.equal(batch.maxTimestampMs, 1_000);
      assert.equal(batch.producerId, 42n);
      assert.equal(batch.producerEpoch, 3);
      assert.equal(batch.baseSequence, 7);
      assert.equal(batch.flags, BatchFlags.transactional);
      const records = [...batch.records()];
      assert.deepEqual(
        records.map((record) => [
          record.offset,
          record.timestampMs,
          record.key?.toString(),
          record.value.toString(),
        ]),
        [
          [0, 5, 'k1', 'a'],
          [1, 3, undefined, ''],
          [2, 1_000, undefined, 'c'],
        ],
      );
      // Keys and values are views of the batch bytes, not copies.
      assert.equal(records[0]!.value.buffer, batch.bytes.buffer);
      assert.equal(batches[1]!.producerId, -1n);
      assert.equal(log.sizeBytes, batches[0]!.bytes.length + batches[1]!.bytes.length);
      await log.close();
    });

    test('read starts at the batch holding the offset, honours maxBytes and the log range', async () => {
      const log = await open();
      for (let index = 0; index < 10; index++) await log.append(textBatch(`b${index}`, 3));
      const fromMiddle = await log.read(Offset(7), 1);
      assert.equal(fromMiddle.length, 1, 'at least one batch even when it exceeds maxBytes');
      assert.equal(fromMiddle[0]!.baseOffset, 6);
      const batchBytes = fromMiddle[0]!.bytes.length;
      const some = await log.read(Offset(7), batchBytes * 3);
      assert.deepEqual(
        some.map((batch) => batch.baseOffset),
        [6, 9, 12],
      );
      assert.deepEqual(await log.read(Offset(30), 1000), []);
      await rejectsWithCode(log.read(Offset(31), 1000), ErrorCode.OffsetOutOfRange);
      await rejectsWithCode(log.read(Offset(-1), 1000), ErrorCode.OffsetOutOfRange);
      await rejectsWithCode(log.read(Offset(0), 0), ErrorCode.InvalidArgument);
      await rejectsWithCode(log.read(Offset(0), Limits.logReadBytesMax + 1), ErrorCode.InvalidArgument);
      assert.deepEqual(await readValues(log, Offset(28)), ['b9-1', 'b9-2']);
      await log.close();
    });

    test('concurrent appends all resolve, in offset order, without gaps', async () => {
      const log = await open();
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, index) => log.append(textBatch(`c${index}`, 2))),
      );
      assert.deepEqual(
        results.map((result) => result.baseOffset),
        Array.from({ length: 64 }, (_, index) => index * 2),
      );
      const values = await readValues(log);
      assert.equal(values.length, 128);
      assert.equal(values[127], 'c63-1');
      await log.close();
    });

    test('offsetForTimestamp finds the first record at or after a time', async () => {
      const log = await open();
      await log.append(textBatch('a', 2, 100));
      await log.append({
        records: [
          { value: value('x'), timestampMs: 300 },
          { value: value('y'), timestampMs: 200 },
        ],
      });
      await log.append(textBatch('c', 1, 250));
      assert.equal(await log.offsetForTimestamp(0), 0);
      assert.equal(await log.offsetForTimestamp(100), 0);
      assert.equal(await log.offsetForTimestamp(101), 2);
      assert.equal(await log.offsetForTimestamp(300), 2);
      assert.equal(await log.offsetForTimestamp(301), 5, 'after every record: nextOffset');
      await log.close();
    });

    test('segments roll by size and by age, and reads cross them', async () => {
      const clock = new ManualClock(0);
      const log = await open({ clock, segmentBytesMax: 1024, segmentAgeMs: 60_000 });
      for (let index = 0; index < 20; index++) await log.append(textBatch(`s${index}`, 4));
      const bySize = log.segmentCount;
      assert.ok(bySize >= 2, `rolled by size: ${bySize} segments`);
      clock.advance(59_999);
      await log.append(textBatch('t0', 1));
      assert.equal(log.segmentCount, bySize, 'not yet old enough');
      const beforeAge = log.segmentCount;
      clock.advance(120_000);
      await log.append(textBatch('t1', 1));
      assert.equal(log.segmentCount, beforeAge + 1, 'rolled by age');
      const values = await readValues(log);
      assert.equal(values.length, 82);
      assert.equal(values[0], 's0-0');
      assert.equal(values[81], 't1-0');
      await log.close();
    });

    test('a batch larger than segmentBytesMax gets a segment of its own', async () => {
      const log = await open({ segmentBytesMax: 1024 });
      await log.append(textBatch('small', 2));
      const big = Buffer.alloc(3000, 7);
      assert.equal((await log.append({ records: [{ value: big }] })).baseOffset, 2);
      assert.equal(log.segmentCount, 2);
      await log.append(textBatch('after', 1));
      assert.equal(log.segmentCount, 3);
      const batches = await readAll(log);
      assert.deepEqual([...batches[1]!.records()][0]!.value, big);
      assert.deepEqual(await readValues(log, Offset(3)), ['after-0']);
      await log.close();
    });

    test('retention by bytes and by age removes whole oldest segments', async () => {
      const clock = new ManualClock(0);
      const log = await open({ clock, segmentBytesMax: 1024 });
      for (let index = 0; index < 30; index++) {
        await log.append(textBatch(`r${index}`, 4));
        clock.advance(1_000);
      }
      const segments = log.segmentCount;
      assert.ok(segments >= 4);
      const sizeBefore = log.sizeBytes;
      let start = await log.enforceRetention({ maxBytes: sizeBefore }, clock.nowMs());
      assert.equal(start, 0, 'nothing to do at the limit');
      start = await log.enforceRetention({ maxBytes: Math.floor(sizeBefore / 2) }, clock.nowMs());
      assert.ok(start > 0);
      assert.equal(log.startOffset, start);
      assert.ok(log.sizeBytes <= sizeBefore / 2);
      assert.ok(log.segmentCount < segments);
      const values = await readValues(log);
      assert.equal(values[0], `r${start / 4}-0`, 'starts at a whole batch of a whole segment');
      assert.equal(values.at(-1), 'r29-3');
      await rejectsWithCode(log.read(Offset(start - 1), 1000), ErrorCode.OffsetOutOfRange);

      // Records r0..r29 were stamped 0, 1000, …, 29000; now is 30000.
      start = await log.enforceRetention({ maxAgeMs: 5_500 }, clock.nowMs());
      const kept = await readValues(log);
      // The segment holding r25 (stamped 25000, offset 100) stays; older whole segments go.
      assert.ok(start <= 100 && start >= 64, `startOffset ${start}`);
      assert.equal(kept[100 - start], 'r25-0');
      assert.equal(kept.at(-1), 'r29-3');
      // Everything expires: the log empties but keeps its offsets.
      start = await log.enforceRetention({ maxAgeMs: 0 }, clock.nowMs() + 1);
      assert.equal(start, 120);
      assert.equal(log.nextOffset, 120);
      assert.equal(log.sizeBytes, 0);
      assert.deepEqual(await log.read(Offset(120), 1000), []);
      assert.equal((await log.append(textBatch('after', 1))).baseOffset, 120);
      await rejectsWithCode(log.enforceRetention({ maxBytes: -1 }, 0), ErrorCode.InvalidArgument);
      await log.close();
    });

    test('deleteBefore removes only segments entirely below the offset', async () => {
      const log = await open({ segmentBytesMax: 1024 });
      for (let index = 0; index < 30; index++) await log.append(textBatch(`d${index}`, 4));
      await log.deleteBefore(Offset(0));
      assert.equal(log.startOffset, 0);
      await log.deleteBefore(Offset(50));
      assert.ok(log.startOffset <= 50 && log.startOffset > 0, `startOffset ${log.startOffset}`);
      assert.equal((await readValues(log))[0], `d${log.startOffset / 4}-0`);
      await log.deleteBefore(Offset(1_000));
      assert.equal(log.startOffset, 120);
      assert.equal(log.nextOffset, 120);
      assert.equal(log.segmentCount, 1);
      await log.append(textBatch('again', 2));
      assert.deepEqual(await readValues(log), ['again-0', 'again-1']);
      await log.close();
    });

    test('limits: a too large record or batch is refused with its code and stores nothing', async () => {
      const log = await open();
      await rejectsWithCode(
        log.append({ records: [{ value: Buffer.alloc(Limits.recordBytesMax) }] }),
        ErrorCode.RecordTooLarge,
      );
      await rejectsWithCode(
        log.append({
          records: Array.from({ length: Limits.batchRecordsMax + 1 }, () => ({ value: Buffer.alloc(0) })),
        }),
        ErrorCode.BatchTooLarge,
      );
      const record = { value: Buffer.alloc(Limits.recordBytesMax - 100) };
      await rejectsWithCode(log.append({ records: [record, record, record] }), ErrorCode.BatchTooLarge);
      await rejectsWithCode(log.append({ records: [] }), ErrorCode.InvalidArgument);
      await rejectsWithCode(
        log.append({
          records: [
            { value: value('a'), timestampMs: 0 },
            { value: value('b'), timestampMs: 2 ** 40 },
          ],
        }),
        ErrorCode.InvalidArgument,
      );
      // Only compaction may mark a batch compacted: recovery accepts a gap before one.
      await rejectsWithCode(
        log.append({ records: [{ value: value('c') }], flags: BatchFlags.compacted }),
        ErrorCode.InvalidArgument,
      );
      assert.equal(log.nextOffset, 0);
      assert.equal(log.sizeBytes, 0);
      assert.equal((await log.append(textBatch('ok', 1))).baseOffset, 0);
      await log.close();
      await rejectsWithCode(log.append(textBatch('late', 1)), ErrorCode.LogClosed);
      await rejectsWithCode(log.read(Offset(0), 100), ErrorCode.LogClosed);
    });

    test('options are checked against their limits', async () => {
      const invalid = (error: unknown): boolean => isWeirError(error, ErrorCode.InvalidArgument);
      await assert.rejects(open({ segmentBytesMax: Limits.segmentBytesMin - 1 }), invalid);
      await assert.rejects(open({ segmentBytesMax: Limits.segmentBytesMax + 1 }), invalid);
      await assert.rejects(open({ segmentAgeMs: 0 }), invalid);
      await assert.rejects(open({ fsync: { kind: 'interval', intervalMs: 0 } }), invalid);
      await assert.rejects(
        open({ fsync: { kind: 'interval', intervalMs: Limits.fsyncIntervalMsMax + 1 } }),
        invalid,
      );
    });

    for (const fsync of [{ kind: 'never' }, { kind: 'interval', intervalMs: 5 }] as const) {
      test(`fsync ${fsync.kind}: appends resolve and are readable`, async () => {
        const log = await open({ fsync });
        await Promise.all([log.append(textBatch('p', 3)), log.append(textBatch('q', 3))]);
        assert.equal(log.committedOffset, 6);
        assert.deepEqual(await readValues(log), ['p-0', 'p-1', 'p-2', 'q-0', 'q-1', 'q-2']);
        await log.flush();
        await log.close();
      });
    }

    const reopen = harness.reopen;
    if (reopen !== undefined) {
      test('reopen restores offsets, batches, segments, indexes and retention state', async () => {
        const clock = new ManualClock(10_000);
        const options: LogOptions = { clock, segmentBytesMax: 1024, indexIntervalBytes: 200 };
        let log = await open(options);
        for (let index = 0; index < 40; index++) {
          await log.append(textBatch(`o${index}`, 3));
          clock.advance(10);
        }
        await log.deleteBefore(Offset(20));
        const expected = {
          start: log.startOffset,
          next: log.nextOffset,
          segments: log.segmentCount,
          size: log.sizeBytes,
          values: await readValues(log),
          bytes: (await readAll(log)).map((batch) => batch.bytes.toString('hex')),
        };
        log = await reopen(log, options);
        assert.equal(log.startOffset, expected.start);
        assert.equal(log.nextOffset, expected.next);
        assert.equal(log.committedOffset, expected.next);
        assert.equal(log.segmentCount, expected.segments);
        assert.equal(log.sizeBytes, expected.size);
        assert.deepEqual(await readValues(log), expected.values);
        assert.deepEqual(
          (await readAll(log)).map((batch) => batch.bytes.toString('hex')),
          expected.bytes,
        );
        assert.equal((await log.read(Offset(100), 1))[0]!.baseOffset, 99);
        assert.equal(await log.offsetForTimestamp(10_000 + 35 * 10), 105);
        assert.equal((await log.append(textBatch('new', 1))).baseOffset, 120);
        log = await reopen(log, options);
        assert.equal((await readValues(log)).at(-1), 'new-0');
        await log.close();
      });
    }

    test('dispose', async () => {
      await harness.dispose();
    });
  });
}
