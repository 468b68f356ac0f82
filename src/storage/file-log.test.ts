import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Offset } from '../common/branded.js';
import { ManualClock } from '../common/clock.js';
import { CorruptLogError, ErrorCode, isWeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import { openFileLog } from './file-log.js';
import type { Log, LogOptions } from './log.js';
import { segmentFileName } from './log-segment.js';
import { encodeBatch, measureBatch } from './record-batch.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-file-log-'));
after(() => fs.rm(root, { recursive: true, force: true }));
let directoryCount = 0;
const freshDirectory = (): string => path.join(root, `log-${directoryCount++}`);

async function fill(log: Log, batches: number, recordsPerBatch = 3): Promise<void> {
  for (let index = 0; index < batches; index++) {
    await log.append({
      records: Array.from({ length: recordsPerBatch }, (_, record) => ({
        value: Buffer.from(`v${index}-${record}`),
      })),
    });
  }
}

async function values(log: Log): Promise<string[]> {
  const out: string[] = [];
  let offset: number = log.startOffset;
  for (;;) {
    const batches = await log.read(Offset(offset), 1 << 20);
    if (batches.length === 0) return out;
    for (const batch of batches) {
      for (const record of batch.records()) if (record.offset >= offset) out.push(record.value.toString());
      offset = batch.lastOffset + 1;
    }
  }
}

const logFile = (directory: string, baseOffset = 0): string =>
  path.join(directory, segmentFileName(baseOffset, 'log'));

test('a torn batch at the tail is truncated on open; new appends follow', async () => {
  const directory = freshDirectory();
  let log = await openFileLog(directory);
  await fill(log, 10);
  const expected = await values(log);
  await log.close();
  const sizeBefore = (await fs.stat(logFile(directory))).size;
  const torn = { records: [{ value: Buffer.alloc(500, 1) }] };
  const tornBytes = encodeBatch(torn, measureBatch(torn), Offset(30), 0);
  for (const cut of [1, 40, 56, 300, tornBytes.length - 1]) {
    await fs.appendFile(logFile(directory), tornBytes.subarray(0, cut));
    log = await openFileLog(directory);
    assert.equal((await fs.stat(logFile(directory))).size, sizeBefore, `cut at ${cut} truncated`);
    assert.equal(log.nextOffset, 30);
    assert.deepEqual(await values(log), expected);
    await log.close();
  }
  // A zero-filled tail (space allocated, data never written) is torn too.
  await fs.appendFile(logFile(directory), Buffer.alloc(8192));
  log = await openFileLog(directory);
  assert.equal(log.nextOffset, 30);
  assert.deepEqual((await log.append({ records: [{ value: Buffer.from('next') }] })).baseOffset, 30);
  assert.equal((await values(log)).at(-1), 'next');
  await log.close();
});

test('a flipped byte with valid batches after it is reported with file and position, not truncated', async () => {
  const directory = freshDirectory();
  const log = await openFileLog(directory);
  await fill(log, 10);
  const batches = await log.read(Offset(0), 1 << 20);
  await log.close();
  const position = batches[0]!.bytes.length * 4;
  const file = logFile(directory);
  const bytes = await fs.readFile(file);
  bytes[position + 70]! ^= 0x10;
  await fs.writeFile(file, bytes);
  await assert.rejects(openFileLog(directory), (error: unknown) => {
    assert.ok(error instanceof CorruptLogError);
    assert.equal(error.code, ErrorCode.CorruptLog);
    assert.equal(error.file, file);
    assert.equal(error.position, position);
    return true;
  });
  assert.equal((await fs.stat(file)).size, bytes.length, 'nothing was truncated');
});

test('corruption in a sealed segment outside the recovery scan is reported when read', async () => {
  const directory = freshDirectory();
  const options: LogOptions = { segmentBytesMax: 16 * 1024, indexIntervalBytes: 512 };
  let log = await openFileLog(directory, options);
  await fill(log, 400);
  assert.ok(log.segmentCount >= 2);
  await log.close();
  const file = logFile(directory);
  const bytes = await fs.readFile(file);
  bytes[100]! ^= 0xff;
  await fs.writeFile(file, bytes);
  log = await openFileLog(directory, options);
  await assert.rejects(log.read(Offset(0), 1000), (error: unknown) => {
    assert.ok(error instanceof CorruptLogError);
    assert.equal(error.file, file);
    assert.equal(error.position, 0);
    return true;
  });
  // Reads that do not touch the bad batch still work.
  assert.ok((await log.read(Offset(300), 1000)).length > 0);
  await log.close();
});

test('missing or bad indexes are rebuilt, with the same entries', async () => {
  const directory = freshDirectory();
  const clock = new ManualClock(5_000);
  const options: LogOptions = { clock, indexIntervalBytes: 256 };
  let log = await openFileLog(directory, options);
  for (let index = 0; index < 100; index++) {
    await fill(log, 1);
    clock.advance(7);
  }
  await log.close();
  const indexFile = path.join(directory, segmentFileName(0, 'index'));
  const timeIndexFile = path.join(directory, segmentFileName(0, 'timeindex'));
  const indexBytes = await fs.readFile(indexFile);
  const timeIndexBytes = await fs.readFile(timeIndexFile);
  assert.ok(indexBytes.length > 8 * 10, 'the index has many entries');

  const check = async (what: string): Promise<void> => {
    log = await openFileLog(directory, options);
    assert.equal(log.nextOffset, 300, what);
    assert.equal((await log.read(Offset(150), 1))[0]!.baseOffset, 150, what);
    assert.equal(await log.offsetForTimestamp(5_000 + 50 * 7), 150, what);
    await log.close();
    assert.deepEqual(await fs.readFile(indexFile), indexBytes, `${what}: index rebuilt`);
    assert.deepEqual(await fs.readFile(timeIndexFile), timeIndexBytes, `${what}: time index rebuilt`);
  };
  await fs.rm(indexFile);
  await fs.rm(timeIndexFile);
  await check('missing');
  const garbage = Buffer.from(indexBytes);
  garbage.fill(0xab, 40);
  await fs.writeFile(indexFile, garbage);
  await check('bad offset index');
  await fs.writeFile(timeIndexFile, timeIndexBytes.subarray(0, 50));
  await check('short time index');
  await fs.writeFile(indexFile, Buffer.concat([indexBytes, Buffer.alloc(16, 0xff)]));
  await check('entries beyond the log');
});

test('retention and deleteBefore remove segment files from disk', async () => {
  const directory = freshDirectory();
  const log = await openFileLog(directory, { segmentBytesMax: 2048, fsync: { kind: 'never' } });
  await fill(log, 100);
  const segments = log.segmentCount;
  const logFiles = async (): Promise<number> =>
    (await fs.readdir(directory)).filter((name) => name.endsWith('.log')).length;
  assert.equal(await logFiles(), segments);
  await log.deleteBefore(Offset(150));
  assert.equal(await logFiles(), log.segmentCount);
  assert.ok(log.segmentCount < segments);
  await log.enforceRetention({ maxBytes: 0 }, Date.now());
  assert.equal(log.segmentCount, 1);
  assert.equal(await logFiles(), 1);
  assert.deepEqual(
    await fs
      .readdir(directory)
      .then((names) => names.filter((name) => !name.startsWith(String(log.startOffset).padStart(20, '0')))),
    [],
  );
  await log.close();
});

test('close waits for appends waiting on group commit; later calls fail', async () => {
  const directory = freshDirectory();
  const log = await openFileLog(directory, { fsync: { kind: 'always' } });
  const appends = Array.from({ length: 32 }, (_, index) =>
    log.append({ records: [{ value: Buffer.from(`x${index}`) }] }),
  );
  await log.close();
  assert.equal((await Promise.all(appends)).length, 32);
  await assert.rejects(log.append({ records: [{ value: Buffer.from('late') }] }), (error: unknown) =>
    isWeirError(error, ErrorCode.LogClosed),
  );
  const reopened = await openFileLog(directory);
  assert.equal(reopened.nextOffset, 32);
  await reopened.close();
});

test('fsync interval: appends resolve at once; the clock drives the fsync, which re-arms', async () => {
  const clock = new ManualClock(0);
  const directory = freshDirectory();
  const log = await openFileLog(directory, { clock, fsync: { kind: 'interval', intervalMs: 100 } });
  await fill(log, 3);
  assert.equal(log.committedOffset, 9);
  assert.equal(clock.pendingTimerCount(), 1);
  clock.advance(100);
  assert.equal(clock.pendingTimerCount(), 0, 'the fsync runs');
  // The fsync itself is real I/O: wait for it (bounded), not for a timer.
  for (let turn = 0; turn < 5000 && clock.pendingTimerCount() === 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.equal(clock.pendingTimerCount(), 1, 'the next fsync is armed once this one ends');
  await log.close();
  assert.equal(clock.pendingTimerCount(), 0, 'close cancels the timer');
});

test('limit: appends waiting for their fsync are bounded (logAppendsWaitingMax)', async () => {
  const directory = freshDirectory();
  const log = await openFileLog(directory, { fsync: { kind: 'always' } });
  const batch = { records: [{ value: Buffer.from('w') }] };
  const waiting: Promise<unknown>[] = [];
  // All in one turn: none can be covered before the group commit's first fsync starts.
  for (let index = 0; index < Limits.logAppendsWaitingMax; index++) waiting.push(log.append(batch));
  await assert.rejects(log.append(batch), (error: unknown) => isWeirError(error, ErrorCode.Overloaded));
  await Promise.all(waiting);
  assert.equal(log.committedOffset, Limits.logAppendsWaitingMax);
  assert.equal(
    (await log.append(batch)).baseOffset,
    Limits.logAppendsWaitingMax,
    'accepted again once covered',
  );
  await log.close();
});

test('retention may delete a segment while its fsync runs', async () => {
  const directory = freshDirectory();
  const log = await openFileLog(directory, { fsync: { kind: 'always' } });
  for (let round = 0; round < 5; round++) {
    // Megabytes to flush keep the fsync running while retention deletes its segment.
    const appended = log.append({ records: [{ value: Buffer.alloc(4 * 1024 * 1024, round) }] });
    await new Promise((resolve) => setImmediate(resolve)); // the group commit's fsync has started
    await log.deleteBefore(log.nextOffset);
    assert.equal((await appended).baseOffset, round);
  }
  assert.equal(log.startOffset, 5);
  assert.equal((await log.append({ records: [{ value: Buffer.from('still writable') }] })).baseOffset, 5);
  await log.close();
});

test('a log holds one file descriptor however many segments it has', async () => {
  const openDescriptors = async (): Promise<number> => (await fs.readdir('/proc/self/fd')).length;
  const directory = freshDirectory();
  const options: LogOptions = { segmentBytesMax: 1024 };
  const before = await openDescriptors();
  let log = await openFileLog(directory, options);
  await fill(log, 200);
  assert.ok(log.segmentCount >= 20, `${log.segmentCount} segments`);
  assert.equal(await openDescriptors(), before + 1, 'while writing');
  await log.close();
  log = await openFileLog(directory, options);
  assert.equal(await openDescriptors(), before + 1, 'after reopening');
  assert.equal((await values(log)).length, 600, 'reads open sealed segments as they go');
  assert.equal(await openDescriptors(), before + 1, 'and close them again');
  await log.close();
  assert.equal(await openDescriptors(), before, 'close releases everything');
});

test('appends share one encoding buffer: what reads return, and the caller keeps, is never overwritten', async () => {
  const log = await openFileLog(freshDirectory());
  const pattern = (fill: number, bytes: number): Buffer => {
    const value = Buffer.alloc(bytes);
    for (let index = 0; index < bytes; index++) value[index] = (fill + index * 7) & 0xff;
    return value;
  };
  const firstValue = pattern(0xa1, 100 * 1024);
  // Three batches: large (the buffer grows), small (it fits in the grown buffer), large again.
  const first = { records: [{ key: Buffer.from('a'), value: firstValue }, { value: pattern(0xa2, 30_000) }] };
  const second = { records: [{ value: pattern(0xb1, 10) }] };
  const third = { records: [{ value: pattern(0xc1, 200 * 1024) }, { value: pattern(0xc2, 5) }] };
  const expected = [...first.records, ...second.records, ...third.records].map((record) =>
    Buffer.from(record.value),
  );

  await log.append(first);
  // The log copied the caller's bytes: changing them after the append changes nothing stored.
  firstValue.fill(0);
  const [firstBatch] = await log.read(Offset(0), 1);
  assert.ok(firstBatch !== undefined);
  const firstSlices = [...firstBatch.records()].map((record) => record.value);
  assert.deepEqual(firstSlices, expected.slice(0, 2));

  // Appended without awaiting each other: every batch is encoded and written before the next.
  await Promise.all([log.append(second), log.append(third)]);
  assert.deepEqual(firstSlices, expected.slice(0, 2), 'slices returned earlier keep their bytes');

  const batches = await log.read(Offset(0), 1 << 20);
  assert.deepEqual(
    batches.map((batch) => batch.bytes.length),
    [first, second, third].map((batch) => measureBatch(batch)),
    'each batch is exactly its own size, not the shared buffer',
  );
  const readValues = batches.flatMap((batch) => [...batch.records()].map((record) => record.value));
  assert.deepEqual(readValues, expected);
  assert.deepEqual([...batches[0]!.records()][0]!.key, Buffer.from('a'));
  await log.close();
});

test('a segment whose first batch is past its base offset, without the compacted flag, is corrupt even with an index that agrees', async () => {
  const directory = freshDirectory();
  const options: LogOptions = { segmentBytesMax: 16 * 1024, indexIntervalBytes: 512 };
  const log = await openFileLog(directory, options);
  await fill(log, 600);
  assert.ok(log.segmentCount >= 3);
  await log.close();
  const bases = (await fs.readdir(directory))
    .filter((name) => name.endsWith('.log'))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
  const second = bases[1]!;
  const shift = 3;
  // Drop the first segment (as retention would) and rename the second so that its name says
  // it starts 3 offsets earlier; its indexes are rewritten to agree with the new name.
  for (const extension of ['log', 'index', 'timeindex'] as const) {
    await fs.rm(path.join(directory, segmentFileName(bases[0]!, extension)));
  }
  const index = await fs.readFile(path.join(directory, segmentFileName(second, 'index')));
  for (let at = 0; at < index.length; at += 8) index.writeUInt32BE(index.readUInt32BE(at) + shift, at);
  const timeIndex = await fs.readFile(path.join(directory, segmentFileName(second, 'timeindex')));
  for (let at = 8; at < timeIndex.length; at += 12)
    timeIndex.writeUInt32BE(timeIndex.readUInt32BE(at) + shift, at);
  await fs.rename(logFile(directory, second), logFile(directory, second - shift));
  await fs.writeFile(path.join(directory, segmentFileName(second - shift, 'index')), index);
  await fs.writeFile(path.join(directory, segmentFileName(second - shift, 'timeindex')), timeIndex);
  for (const extension of ['index', 'timeindex'] as const) {
    await fs.rm(path.join(directory, segmentFileName(second, extension)));
  }
  await assert.rejects(openFileLog(directory, options), (error: unknown) => {
    assert.ok(error instanceof CorruptLogError, String(error));
    assert.equal(error.file, logFile(directory, second - shift));
    assert.equal(error.position, 0);
    return true;
  });
});
