// Property: whatever keyed appends and deletes are made, with compaction runs, clock moves and
// reopens in between, reading the log gives each key its latest value (a deleted key reads as
// absent or as its tombstone), offsets only grow, every record read is byte for byte the one
// appended at its offset, and the active segment is never touched. FileLog and MemoryLog.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/common/clock.js';
import { openFileLog } from '../../src/storage/file-log.js';
import type { Log, LogOptions } from '../../src/storage/log.js';
import { createMemoryLog } from '../../src/storage/memory-log.js';
import { readRecords } from './log-compaction-contract.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-compaction-property-'));
after(() => fs.rm(root, { recursive: true, force: true }));

const step = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .array(fc.record({ key: fc.integer({ min: 0, max: 6 }), size: fc.integer({ min: -1, max: 300 }) }), {
        minLength: 1,
        maxLength: 4,
      })
      .map((records) => ({ kind: 'append' as const, records })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

const tombstoneRetentionMs = 100;
let run = 0;
let recordsRemoved = 0;

for (const storage of ['file', 'memory'] as const) {
  test(`${storage}: compaction keeps each key's latest value and every offset in place`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 30, maxLength: 80 }),
        fc.integer({ min: 1024, max: 2048 }),
        async (steps, segmentBytesMax) => {
          const clock = new ManualClock(1_000_000);
          const directory = path.join(root, `run-${run++}`);
          const options: LogOptions = {
            fsync: { kind: 'never' },
            segmentBytesMax,
            indexIntervalBytes: 200,
            clock,
          };
          const open = (): Promise<Log> =>
            storage === 'file' ? openFileLog(directory, options) : Promise.resolve(createMemoryLog(options));
          let log = await open();
          /** Key → latest value; '' is a deletion. */
          const latest = new Map<string, string>();
          const appended = new Map<number, { key: string; value: string }>();
          let counter = 0;
          for (const item of steps) {
            if (item.kind === 'append') {
              const records = item.records.map(({ key, size }) => {
                const value = size < 0 ? '' : `${counter++}:${'.'.repeat(size)}`;
                return { key: `key-${key}`, value };
              });
              const result = await log.append({
                records: records.map((record) => ({
                  key: Buffer.from(record.key),
                  value: Buffer.from(record.value),
                })),
              });
              records.forEach((record, index) => {
                latest.set(record.key, record.value);
                appended.set(result.baseOffset + index, record);
              });
            } else if (item.kind === 'compact') {
              const activeBase = log.activeSegmentBaseOffset;
              const activeBefore = (await readRecords(log)).filter((record) => record.offset >= activeBase);
              const result = await log.compact({
                tombstoneRetentionMs,
                dirtyRatioMin: 0,
                nowMs: clock.nowMs(),
              });
              if (result.recordsRemoved > 0) recordsRemoved += result.recordsRemoved;
              const activeAfter = (await readRecords(log)).filter((record) => record.offset >= activeBase);
              assert.deepEqual(
                activeAfter.map((record) => record.offset),
                activeBefore.map((record) => record.offset),
                'the active segment is untouched',
              );
            } else if (item.kind === 'advance') {
              clock.advance(item.ms);
            } else if (storage === 'file') {
              await log.close();
              log = await open();
            }
          }
          const records = await readRecords(log);
          const lastByKey = new Map<string, string>();
          let previous = -1;
          for (const record of records) {
            assert.ok(record.offset > previous, 'offsets grow');
            previous = record.offset;
            const original = appended.get(record.offset);
            assert.ok(original !== undefined, `offset ${record.offset} was appended`);
            assert.equal(record.key!.toString(), original.key);
            assert.equal(record.value.toString(), original.value);
            lastByKey.set(original.key, original.value);
          }
          for (const [key, value] of latest) {
            if (value === '') assert.ok((lastByKey.get(key) ?? '') === '', `${key} stays deleted`);
            else assert.equal(lastByKey.get(key), value, `${key} reads its latest value`);
          }
          await log.close();
          if (storage === 'file') await fs.rm(directory, { recursive: true, force: true });
        },
      ),
      { numRuns: 80 },
    );
    assert.ok(recordsRemoved > 200, `compaction removed records (${recordsRemoved})`);
    recordsRemoved = 0;
  });
}
