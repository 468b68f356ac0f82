// `npm run bench -- log [--duration-ms=3000] [--dir=/tmp] [--sizes=100B,1KiB,64KiB] [--read-bytes=1048576]`
//
// The storage log against the machine's physical limits, measured in the same run:
//   log.append.<size>.never       1 appender, batches of 100 records (10 of 64 KiB)
//   log.append.<size>.always      1 appender, batches of 10 records, each waiting for its fsync
//   log.append.<size>.always.c64  64 concurrent appenders, batches of 10 records (group commit)
//   log.read.<size>               sequential reads (1 MiB each) of the `never` log, from the page cache
//   raw.write.<size>              fs.writeSync of the same bytes in the same write sizes
// `never` and raw writes run interleaved, batch by batch (see appendNeverBesideRaw): one
// append, then one raw write of the same byte count to a file of its own, each timed apart.
// Three such trials, after a short warm-up, report medians, and `percent_of_raw` the median
// of each trial's ratio.
//   raw.fsync                     write 1 KiB + fdatasync, back to back
// MB are 10^6 bytes of log (encoded batches, what reaches the file), so that the log and the
// raw write of the same bytes compare directly.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert } from '../../src/common/assert.js';
import { Offset } from '../../src/common/branded.js';
import type { FileLog } from '../../src/storage/file-log.js';
import { openFileLog } from '../../src/storage/file-log.js';
import type { BatchInput, FsyncPolicy } from '../../src/storage/log.js';
import type { BenchResult } from '../report.js';
import { emit, printTable } from '../report.js';

interface Size {
  readonly name: string;
  readonly bytes: number;
  /** Records per batch under `never` (under `always` it is always 10). */
  readonly recordsPerBatchNever: number;
}

const allSizes: readonly Size[] = [
  { name: '100B', bytes: 100, recordsPerBatchNever: 100 },
  { name: '1KiB', bytes: 1024, recordsPerBatchNever: 100 },
  { name: '64KiB', bytes: 64 * 1024, recordsPerBatchNever: 10 },
];
const recordsPerBatchAlways = 10;
const concurrentAppenders = 64;
const trials = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const results: BenchResult[] = [];
function record(bench: string, metric: string, value: number, unit: string): void {
  const result: BenchResult = { bench, system: 'weir', metric, value: Math.round(value * 100) / 100, unit };
  results.push(result);
  emit(result);
}

function seconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

function makeBatch(size: Size, recordsPerBatch: number): BatchInput {
  const value = Buffer.alloc(size.bytes);
  for (let index = 0; index < value.length; index++) value[index] = (index * 31 + 7) & 0xff;
  return { records: Array.from({ length: recordsPerBatch }, () => ({ value })) };
}

interface AppendRun {
  readonly records: number;
  readonly logBytes: number;
  readonly seconds: number;
  readonly batchBytes: number;
  readonly log: FileLog;
}

async function appendFor(
  directory: string,
  fsync: FsyncPolicy,
  batch: BatchInput,
  appenders: number,
  durationMs: number,
): Promise<AppendRun> {
  const log = await openFileLog(directory, { fsync });
  const sizeBefore = log.sizeBytes;
  let records = 0;
  let running = true;
  const start = process.hrtime.bigint();
  const stopAt = Date.now() + durationMs;
  const appender = async (): Promise<void> => {
    while (running) {
      await log.append(batch);
      records += batch.records.length;
      // Checking the time every batch costs little next to an append.
      if ((records / batch.records.length) % 16 === 0 && Date.now() >= stopAt) running = false;
    }
  };
  await Promise.all(Array.from({ length: appenders }, appender));
  const elapsed = seconds(start);
  const logBytes = log.sizeBytes - sizeBefore;
  return {
    records,
    logBytes,
    seconds: elapsed,
    batchBytes: logBytes / (records / batch.records.length),
    log,
  };
}

interface NeverRun extends AppendRun {
  readonly rawSeconds: number;
}

/**
 * Appends under `never` for `durationMs` and, after each append, writes the same number of
 * bytes with one `fs.writeSync` to a raw file beside the log; the two are timed apart.
 *
 * Interleaved, not one after the other, because both write into the page cache, and how fast
 * that is depends on the memory the kernel hands out, not only on the code: on a VM whose
 * balloon reports free pages to the host (free page reporting), pages freed within the last
 * two seconds or so are filled at ~5.8 GB/s on the development machine, pages freed longer ago
 * (or never used) at ~1 GB/s, as the host backs them again. A raw write that starts right after the log's files are deleted gets the
 * first kind and a 3 s log run mostly the second, which made the raw write look 3–5 times
 * faster than the log for reasons outside the log. Interleaved, both draw from the same
 * memory, the same CPU contention and the same writeback, batch by batch.
 */
async function appendNeverBesideRaw(
  directory: string,
  rawFile: string,
  batch: BatchInput,
  durationMs: number,
): Promise<NeverRun> {
  const log = await openFileLog(directory, { fsync: { kind: 'never' } });
  const rawFd = fs.openSync(rawFile, 'w');
  let chunk = Buffer.alloc(0);
  let rawPosition = 0;
  let logNs = 0n;
  let rawNs = 0n;
  let batches = 0;
  const stopAt = Date.now() + durationMs;
  try {
    while (batches % 16 !== 0 || Date.now() < stopAt) {
      const sizeBefore = log.sizeBytes;
      const logStart = process.hrtime.bigint();
      await log.append(batch);
      logNs += process.hrtime.bigint() - logStart;
      const bytes = log.sizeBytes - sizeBefore;
      // Made once, outside the timed section: the raw write reuses its buffer.
      if (chunk.length !== bytes) chunk = Buffer.alloc(bytes, 0x5a);
      const rawStart = process.hrtime.bigint();
      let written = 0;
      while (written < bytes) {
        written += fs.writeSync(rawFd, chunk, written, bytes - written, rawPosition + written);
      }
      rawNs += process.hrtime.bigint() - rawStart;
      rawPosition += bytes;
      batches++;
    }
  } finally {
    fs.closeSync(rawFd);
    fs.rmSync(rawFile);
  }
  const logBytes = log.sizeBytes;
  assert(logBytes === rawPosition, 'the raw write wrote the bytes the log wrote');
  return {
    records: batches * batch.records.length,
    logBytes,
    seconds: Number(logNs) / 1e9,
    rawSeconds: Number(rawNs) / 1e9,
    batchBytes: logBytes / batches,
    log,
  };
}

async function readAll(log: FileLog, readBytes: number): Promise<{ bytes: number; seconds: number }> {
  let offset = log.startOffset as number;
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    const batches = await log.read(Offset(offset), readBytes);
    if (batches.length === 0) break;
    for (const batch of batches) bytes += batch.bytes.length;
    offset = batches[batches.length - 1]!.lastOffset + 1;
  }
  return { bytes, seconds: seconds(start) };
}

function rawFsync(file: string, durationMs: number): number {
  const chunk = Buffer.alloc(1024, 0x5a);
  const fd = fs.openSync(file, 'w');
  let count = 0;
  let position = 0;
  const start = process.hrtime.bigint();
  const stopAt = Date.now() + durationMs;
  while (Date.now() < stopAt) {
    position += fs.writeSync(fd, chunk, 0, chunk.length, position);
    fs.fdatasyncSync(fd);
    count++;
  }
  const elapsed = seconds(start);
  fs.closeSync(fd);
  fs.rmSync(file);
  return count / elapsed;
}

function option(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

export async function run(args: string[]): Promise<void> {
  const durationMs = Number(option(args, 'duration-ms') ?? 3000);
  const readBytes = Number(option(args, 'read-bytes') ?? 1024 * 1024);
  const parent = option(args, 'dir') ?? os.tmpdir();
  const sizeNames = (option(args, 'sizes') ?? allSizes.map((size) => size.name).join(',')).split(',');
  const sizes = allSizes.filter((size) => sizeNames.includes(size.name));
  const root = fs.mkdtempSync(path.join(parent, 'weir-bench-log-'));
  try {
    record(
      'raw.fsync',
      'fsyncs_per_s',
      rawFsync(path.join(root, 'raw-fsync'), Math.min(durationMs, 3000)),
      'fsyncs/s',
    );
    for (const size of sizes) {
      // The page cache and the disk are shared with everything else on the machine, so the
      // log and the raw write of the same bytes alternate, and each reports its median.
      // Warm-up, not reported: the first run of a code path includes the JIT compiling it.
      const warmDirectory = path.join(root, `${size.name}-warm-up`);
      const warm = await appendFor(
        warmDirectory,
        { kind: 'never' },
        makeBatch(size, size.recordsPerBatchNever),
        1,
        300,
      );
      await readAll(warm.log, readBytes);
      await warm.log.close();
      fs.rmSync(warmDirectory, { recursive: true });

      const neverRecordsPerS: number[] = [];
      const neverMbPerS: number[] = [];
      const percentOfRaw: number[] = [];
      const readMbPerS: number[] = [];
      const rawMbPerS: number[] = [];
      for (let trial = 0; trial < trials; trial++) {
        const directory = path.join(root, `${size.name}-never`);
        const never = await appendNeverBesideRaw(
          directory,
          path.join(root, 'raw-write'),
          makeBatch(size, size.recordsPerBatchNever),
          durationMs,
        );
        neverRecordsPerS.push(never.records / never.seconds);
        neverMbPerS.push(never.logBytes / 1e6 / never.seconds);
        rawMbPerS.push(never.logBytes / 1e6 / never.rawSeconds);
        percentOfRaw.push((100 * never.rawSeconds) / never.seconds);
        // Reads while the log is in the page cache.
        const read = await readAll(never.log, readBytes);
        readMbPerS.push(read.bytes / 1e6 / read.seconds);
        await never.log.close();
        fs.rmSync(directory, { recursive: true });
      }
      record(`log.append.${size.name}.never`, 'records_per_s', median(neverRecordsPerS), 'records/s');
      record(`log.append.${size.name}.never`, 'mb_per_s', median(neverMbPerS), 'MB/s');
      record(`log.append.${size.name}.never`, 'percent_of_raw', median(percentOfRaw), '%');
      record(`log.read.${size.name}`, 'mb_per_s', median(readMbPerS), 'MB/s');
      record(`raw.write.${size.name}`, 'mb_per_s', median(rawMbPerS), 'MB/s');

      for (const appenders of [1, concurrentAppenders]) {
        const directory = path.join(root, `${size.name}-always-${appenders}`);
        const always = await appendFor(
          directory,
          { kind: 'always' },
          makeBatch(size, recordsPerBatchAlways),
          appenders,
          durationMs,
        );
        const bench = `log.append.${size.name}.always${appenders === 1 ? '' : `.c${appenders}`}`;
        const stats = always.log.groupCommitStats;
        record(bench, 'records_per_s', always.records / always.seconds, 'records/s');
        record(bench, 'mb_per_s', always.logBytes / 1e6 / always.seconds, 'MB/s');
        record(bench, 'records_per_fsync', stats.recordsCovered / Math.max(1, stats.syncCount), 'records');
        await always.log.close();
        fs.rmSync(directory, { recursive: true });
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  printTable(results);
}
