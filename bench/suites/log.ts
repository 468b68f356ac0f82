// `npm run bench -- log [--duration-ms=3000] [--dir=/tmp] [--sizes=100B,1KiB,64KiB] [--read-bytes=1048576]`
//
// The storage log against the machine's physical limits, measured in the same run:
//   log.append.<size>.never       1 appender, batches of 100 records (10 of 64 KiB)
//   log.append.<size>.always      1 appender, batches of 10 records, each waiting for its fsync
//   log.append.<size>.always.c64  64 concurrent appenders, batches of 10 records (group commit)
//   log.read.<size>               sequential reads (1 MiB each) of the `never` log, from the page cache
//   raw.write.<size>              fs.writeSync of the same bytes in the same write sizes
// `never`, reads and raw writes run three alternating trials, after a short warm-up, and
// report medians.
//   raw.fsync                     write 1 KiB + fdatasync, back to back
// MB are 10^6 bytes of log (encoded batches, what reaches the file), so that the log and the
// raw write of the same bytes compare directly.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

function rawWrite(file: string, totalBytes: number, writeBytes: number): number {
  const chunk = Buffer.alloc(writeBytes, 0x5a);
  const fd = fs.openSync(file, 'w');
  const start = process.hrtime.bigint();
  let position = 0;
  while (position < totalBytes) {
    position += fs.writeSync(fd, chunk, 0, Math.min(writeBytes, totalBytes - position), position);
  }
  const elapsed = seconds(start);
  fs.closeSync(fd);
  fs.rmSync(file);
  return totalBytes / 1e6 / elapsed;
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
      const readMbPerS: number[] = [];
      const rawMbPerS: number[] = [];
      for (let trial = 0; trial < trials; trial++) {
        const directory = path.join(root, `${size.name}-never`);
        const never = await appendFor(
          directory,
          { kind: 'never' },
          makeBatch(size, size.recordsPerBatchNever),
          1,
          durationMs,
        );
        neverRecordsPerS.push(never.records / never.seconds);
        neverMbPerS.push(never.logBytes / 1e6 / never.seconds);
        // Reads while the log is in the page cache.
        const read = await readAll(never.log, readBytes);
        readMbPerS.push(read.bytes / 1e6 / read.seconds);
        await never.log.close();
        fs.rmSync(directory, { recursive: true });
        rawMbPerS.push(rawWrite(path.join(root, 'raw-write'), never.logBytes, Math.round(never.batchBytes)));
      }
      record(`log.append.${size.name}.never`, 'records_per_s', median(neverRecordsPerS), 'records/s');
      record(`log.append.${size.name}.never`, 'mb_per_s', median(neverMbPerS), 'MB/s');
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
