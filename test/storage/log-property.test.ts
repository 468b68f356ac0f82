// Property: whatever is appended, however often the log is reopened, and wherever the file is
// cut, reopening returns exactly the batches that were fully written before the cut — never
// a partial or corrupt one — and a cut inside a sealed segment is reported, not hidden.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Offset } from '../../src/common/branded.js';
import { CorruptLogError } from '../../src/common/errors.js';
import { openFileLog } from '../../src/storage/file-log.js';
import type { Log, LogOptions, RecordBatch } from '../../src/storage/log.js';
import { segmentFileName } from '../../src/storage/log-segment.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-log-property-'));
after(() => fs.rm(root, { recursive: true, force: true }));

async function readAllBatches(log: Log): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  let offset: number = log.startOffset;
  for (;;) {
    const batches = await log.read(Offset(offset), 1 << 20);
    if (batches.length === 0) return out;
    for (const batch of batches) {
      out.push(batch);
      offset = batch.lastOffset + 1;
    }
  }
}

const step = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 5 }).map((sizes) => ({
      kind: 'append' as const,
      sizes,
    })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

let run = 0;
test('reopen after a cut at any byte returns exactly the whole batches before it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 25 }),
      fc.integer({ min: 1024, max: 4096 }),
      fc.integer({ min: 1, max: 600 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      async (steps, segmentBytesMax, indexIntervalBytes, cutFraction) => {
        const directory = path.join(root, `run-${run++}`);
        const options: LogOptions = { fsync: { kind: 'never' }, segmentBytesMax, indexIntervalBytes };
        let log = await openFileLog(directory, options);
        let fill = 0;
        for (const item of steps) {
          if (item.kind === 'reopen') {
            await log.close();
            log = await openFileLog(directory, options);
          } else {
            await log.append({
              records: item.sizes.map((size) => ({ value: Buffer.alloc(size, fill++ & 0xff) })),
            });
          }
        }
        const written = (await readAllBatches(log)).map((batch) => Buffer.from(batch.bytes));
        await log.close();

        // Where each batch lies: segment files in offset order, batches back to back.
        const bases = (await fs.readdir(directory))
          .filter((name) => name.endsWith('.log'))
          .map((name) => Number(name.slice(0, 20)))
          .sort((left, right) => left - right);
        const sizes = await Promise.all(
          bases.map(async (base) => (await fs.stat(path.join(directory, segmentFileName(base, 'log')))).size),
        );
        const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
        const cut = Math.floor(cutFraction * totalBytes);
        let segment = 0;
        let segmentStart = 0;
        while (segment < bases.length - 1 && cut >= segmentStart + sizes[segment]!)
          segmentStart += sizes[segment++]!;
        const cutInSegment = cut - segmentStart;
        const file = path.join(directory, segmentFileName(bases[segment]!, 'log'));
        await fs.truncate(file, cutInSegment);
        const isLast = segment === bases.length - 1;
        const cutNothing = cutInSegment === sizes[segment];

        if (!isLast && !cutNothing) {
          await assert.rejects(
            openFileLog(directory, options),
            (error: unknown) => error instanceof CorruptLogError,
          );
          return;
        }
        // Expected: every batch of the earlier segments, and those of the cut one ending at or before the cut.
        const expected: Buffer[] = [];
        let position = 0;
        for (const bytes of written) {
          const baseOffset = Number(bytes.readUInt32BE(12)) * 2 ** 32 + bytes.readUInt32BE(16);
          if (baseOffset < bases[segment]!) {
            expected.push(bytes);
            continue;
          }
          position += bytes.length;
          if (position <= cutInSegment) expected.push(bytes);
        }
        log = await openFileLog(directory, options);
        const recovered = await readAllBatches(log);
        assert.deepEqual(
          recovered.map((batch) => batch.bytes.toString('hex')),
          expected.map((bytes) => bytes.toString('hex')),
        );
        const nextOffset =
          recovered.at(-1) === undefined ? bases[segment]! : recovered.at(-1)!.lastOffset + 1;
        assert.equal(log.nextOffset, nextOffset);
        const appended = await log.append({ records: [{ value: Buffer.from('after') }] });
        assert.equal(appended.baseOffset, nextOffset);
        const last = (await readAllBatches(log)).at(-1)!;
        assert.equal([...last.records()][0]!.value.toString(), 'after');
        await log.close();
        await fs.rm(directory, { recursive: true, force: true });
      },
    ),
    { numRuns: 60 },
  );
});
