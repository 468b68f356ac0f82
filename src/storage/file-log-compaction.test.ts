// FileLog compaction beyond the contract suite: what happens around a run (reads under way,
// retention and close meanwhile, files left behind, a gap where none is allowed).

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Offset } from '../common/branded.js';
import { CorruptLogError } from '../common/errors.js';
import { openFileLog } from './file-log.js';
import type { FileLog } from './file-log.js';
import type { CompactionOptions, LogOptions, LogRecord } from './log.js';
import { segmentFileName } from './log-segment.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-file-log-compaction-'));
after(() => fs.rm(root, { recursive: true, force: true }));
let directoryCount = 0;
const freshDirectory = (): string => path.join(root, `log-${directoryCount++}`);
const options: LogOptions = { fsync: { kind: 'never' }, segmentBytesMax: 2048, indexIntervalBytes: 256 };
const compactAll: CompactionOptions = {
  tombstoneRetentionMs: 1_000_000,
  dirtyRatioMin: 0,
  nowMs: Date.now(),
};
const keys = 8;

/** Appends `count` keyed records; returns key → latest value. */
async function fill(
  log: FileLog,
  count: number,
  latest = new Map<string, string>(),
): Promise<Map<string, string>> {
  for (let index = 0; index < count; index++) {
    const key = `key-${index % keys}`;
    const value = `${log.nextOffset}:${'.'.repeat(index % 90)}`;
    await log.append({ records: [{ key: Buffer.from(key), value: Buffer.from(value) }] });
    latest.set(key, value);
  }
  return latest;
}

async function scan(log: FileLog, maxBytes = 300): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  let offset: number = log.startOffset;
  for (;;) {
    // A run that empties the oldest segments moves the start past what they held.
    offset = Math.max(offset, log.startOffset);
    const batches = await log.read(Offset(offset), maxBytes);
    if (batches.length === 0) return records;
    for (const batch of batches) {
      for (const record of batch.records()) if (record.offset >= offset) records.push(record);
      offset = batch.lastOffset + 1;
    }
  }
}

function latestOf(records: readonly LogRecord[]): Map<string, string> {
  const latest = new Map<string, string>();
  let previous = -1;
  for (const record of records) {
    assert.ok(record.offset > previous, 'offsets grow');
    previous = record.offset;
    latest.set(record.key!.toString(), record.value.toString());
  }
  return latest;
}

test('reads under way while segments are swapped go on over the new ones and miss nothing', async () => {
  const log = await openFileLog(freshDirectory(), options);
  const latest = await fill(log, 600);
  let scans = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    // Whole-log scans, one after another while the run goes on (some span the swap), in
    // reads of several sizes. Each sees the old segments, the new ones, or the old and then
    // the new: so every record the compacted log holds, and every key's latest.
    let done = false;
    const running = log.compact(compactAll).finally(() => {
      done = true;
    });
    const seen: LogRecord[][] = [];
    while (!done) {
      for (const maxBytes of [100, 1 << 20]) seen.push(await scan(log, maxBytes));
    }
    assert.equal((await running).compacted, true);
    const kept = (await scan(log)).map((record) => record.offset);
    for (const records of seen) {
      assert.deepEqual(latestOf(records), latest);
      const offsets = new Set(records.map((record) => record.offset));
      assert.deepEqual(
        kept.filter((offset) => !offsets.has(offset)),
        [],
        'a scan during the run missed none of the records kept',
      );
    }
    scans += seen.length;
    await fill(log, 200, latest);
  }
  assert.ok(scans >= 10, `scans ran during the runs (${scans})`);
  assert.deepEqual(latestOf(await scan(log)), latest);
  await log.close();
});

test('a run leaves only segment files; retention or close during a run abandons it cleanly', async () => {
  const directory = freshDirectory();
  let log = await openFileLog(directory, options);
  const latest = await fill(log, 400);
  await log.compact(compactAll);
  const names = await fs.readdir(directory);
  assert.ok(
    names.every((name) => /^\d{20}\.(log|index|timeindex)$/.test(name)),
    names.join(' '),
  );

  await fill(log, 400, latest);
  const running = log.compact(compactAll);
  await log.deleteBefore(Offset(log.activeSegmentBaseOffset));
  const abandoned = await running;
  assert.equal(abandoned.compacted, false, 'segments retired under the run: it stops');
  assert.deepEqual(
    (await fs.readdir(directory)).filter((name) => name.includes('.cleaned')),
    [],
  );
  assert.ok(abandoned.dirtyRatio > 0);

  await fill(log, 400, latest);
  const closing = log.compact(compactAll);
  await log.close();
  assert.equal((await closing).compacted, false, 'closed under the run: it stops');
  assert.deepEqual(
    (await fs.readdir(directory)).filter((name) => !/^\d{20}\.(log|index|timeindex)$/.test(name)),
    [],
  );
  log = await openFileLog(directory, options);
  const records = await scan(log);
  const active = log.activeSegmentBaseOffset;
  for (const [key, value] of latestOf(records)) assert.equal(value, latest.get(key));
  assert.ok(records.some((record) => record.offset >= active));
  await log.close();
});

test('a gap between segments that compaction did not make is corruption', async () => {
  const directory = freshDirectory();
  const log = await openFileLog(directory, options);
  await fill(log, 100);
  const segments = (await fs.readdir(directory)).filter((name) => name.endsWith('.log')).sort();
  assert.ok(segments.length >= 3);
  await log.close();
  // Drop a middle segment: the one before it now ends short of the next, without the flag.
  const middle = segments[1]!;
  for (const kind of ['log', 'index', 'timeindex']) {
    await fs.rm(path.join(directory, middle.replace('.log', `.${kind}`)), { force: true });
  }
  await assert.rejects(openFileLog(directory, options), CorruptLogError);
  assert.ok(segmentFileName(0, 'log').endsWith('.log'));
});
