// Model-based property: FileLog (reopened at random moments) behaves exactly like MemoryLog
// under any sequence of appends, reads, time lookups, deleteBefore, retention and the passing
// of time. MemoryLog is simple enough to serve as the model of the seam.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Offset } from '../../src/common/branded.js';
import { ManualClock } from '../../src/common/clock.js';
import { openFileLog } from '../../src/storage/file-log.js';
import type { Log, LogOptions } from '../../src/storage/log.js';
import { createMemoryLog } from '../../src/storage/memory-log.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-log-model-'));
after(() => fs.rm(root, { recursive: true, force: true }));

const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const operation = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      sizes: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 6 }),
      // Later records may carry their own timestamp around now; the first takes the clock's.
      skewsMs: fc.array(fc.option(fc.integer({ min: -5_000, max: 5_000 }), { nil: undefined }), {
        maxLength: 6,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      at: fraction,
      maxBytes: fc.integer({ min: 1, max: 3000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      // 0 hits exactly the timestamp every record appended since the last advance carries.
      backMs: fc.oneof(fc.constant(0), fc.integer({ min: -1000, max: 60_000 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBefore' as const), at: fraction }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('retention' as const),
      maxBytes: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
      maxAgeMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

function offsetAt(log: Log, at: number): Offset {
  return Offset(log.startOffset + Math.floor(at * (log.nextOffset - log.startOffset + 1 - 1e-9)));
}

function state(log: Log): unknown {
  return {
    start: log.startOffset,
    next: log.nextOffset,
    committed: log.committedOffset,
    size: log.sizeBytes,
    segments: log.segmentCount,
  };
}

let run = 0;
test('FileLog behaves like MemoryLog under any sequence of operations', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(operation, { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1024, max: 4096 }),
      async (operations, segmentBytesMax) => {
        const fileClock = new ManualClock(1_000_000);
        const memoryClock = new ManualClock(1_000_000);
        const directory = path.join(root, `run-${run++}`);
        const options = (clock: ManualClock): LogOptions => ({
          clock,
          fsync: { kind: 'never' },
          segmentBytesMax,
          segmentAgeMs: 30_000,
          indexIntervalBytes: 256,
        });
        let file: Log = await openFileLog(directory, options(fileClock));
        const memory = createMemoryLog(options(memoryClock));
        try {
          for (const op of operations) {
            switch (op.kind) {
              case 'append': {
                const records = op.sizes.map((size, index) => {
                  const skewMs = index === 0 ? undefined : op.skewsMs[index];
                  const value = Buffer.alloc(size, index);
                  return skewMs === undefined
                    ? { value }
                    : { value, timestampMs: fileClock.nowMs() + skewMs };
                });
                assert.deepEqual(await file.append({ records }), await memory.append({ records }));
                break;
              }
              case 'advance':
                fileClock.advance(op.ms);
                memoryClock.advance(op.ms);
                break;
              case 'read': {
                const offset = offsetAt(memory, op.at);
                const fromFile = await file.read(offset, op.maxBytes);
                const fromMemory = await memory.read(offset, op.maxBytes);
                assert.deepEqual(
                  fromFile.map((batch) => batch.bytes.toString('hex')),
                  fromMemory.map((batch) => batch.bytes.toString('hex')),
                );
                break;
              }
              case 'time': {
                const timestampMs = memoryClock.nowMs() - op.backMs;
                assert.equal(
                  await file.offsetForTimestamp(timestampMs),
                  await memory.offsetForTimestamp(timestampMs),
                );
                break;
              }
              case 'deleteBefore': {
                const offset = offsetAt(memory, op.at);
                await file.deleteBefore(offset);
                await memory.deleteBefore(offset);
                break;
              }
              case 'retention': {
                const policy = {
                  ...(op.maxBytes === undefined ? {} : { maxBytes: op.maxBytes }),
                  ...(op.maxAgeMs === undefined ? {} : { maxAgeMs: op.maxAgeMs }),
                };
                const nowMs = memoryClock.nowMs();
                assert.equal(
                  await file.enforceRetention(policy, nowMs),
                  await memory.enforceRetention(policy, nowMs),
                );
                break;
              }
              case 'reopen':
                await file.close();
                file = await openFileLog(directory, options(fileClock));
                break;
            }
            assert.deepEqual(state(file), state(memory), `after ${op.kind}`);
          }
        } finally {
          await file.close();
          await memory.close();
          await fs.rm(directory, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 80 },
  );
});
