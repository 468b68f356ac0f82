// FileLog: the Log seam on disk (DESIGN.md §3). One directory per stream partition holding
// segments `<baseOffset>.log` with their `.index` and `.timeindex` (see log-segment.ts,
// offset-index.ts, time-index.ts; the batch format is in record-batch.ts).
//
// One writer per log: appends run synchronously up to the point where they wait for their
// fsync (group-commit.ts), so batches reach the file whole and in offset order, each with one
// write call. Methods ending in `Locked` assume they run inside that synchronous section.
// Reads and fsyncs run off the event loop and never block appends.
//
// Durability by fsync policy:
// - `always`: an append resolves after an fsync that started after its write; a roll fsyncs
//   the old segment and its indexes before the new segment exists, so only the last segment
//   can ever hold a torn batch.
// - `interval:<ms>`: an append resolves after its write; a timer fsyncs every intervalMs.
//   Rolls fsync as under `always`.
// - `never`: an append resolves after its write; the operating system flushes.
// Readers see only committed batches: under `always`, those an fsync has covered.
//
// Opening a log recovers it (segment-recovery.ts): indexes are checked and rebuilt where
// missing or bad, the last segment's torn tail is truncated, and corruption anywhere else is
// reported as CorruptLogError, never skipped: at open for the bytes recovery scans, and by
// the CRC check of every read for the rest.
//
// A log holds one file descriptor, the active segment's; a sealed segment opens its file for
// each read. Nothing stops two processes from opening one directory: the broker that owns a
// data directory is its only user.

import fs from 'node:fs';
import path from 'node:path';
import { assert } from '../common/assert.js';
import { Offset } from '../common/branded.js';
import type { TimerHandle } from '../common/clock.js';
import { CorruptLogError, ErrorCode, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import { GroupCommit } from './group-commit.js';
import type { AppendResult, BatchInput, Log, LogOptions, RecordBatch, RetentionPolicy } from './log.js';
import type { ParsedLogOptions } from './log-options.js';
import { checkReadRange, checkRetentionPolicy, parseLogOptions } from './log-options.js';
import { LogSegment, storageFailed } from './log-segment.js';
import { encodeBatch, measureBatch, peekMaxTimestampMs } from './record-batch.js';
import { segmentsBelow, segmentsToRetire } from './retention.js';
import { recoverSegment } from './segment-recovery.js';

const segmentFilePattern = /^(\d{20})\.(log|index|timeindex)$/;

function syncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class FileLog implements Log {
  readonly directory: string;
  readonly #options: ParsedLogOptions;
  #segments: LogSegment[];
  #sizeBytes: number;
  #committedOffset: number;
  #closed = false;
  #failure: Error | undefined;
  readonly #groupCommit: GroupCommit | undefined;
  #intervalTimer: TimerHandle | undefined;
  #intervalSync: Promise<void> | undefined;
  /**
   * Appends encode into this buffer and write it out before returning, so one buffer serves
   * them all: a fresh buffer per batch costs page faults that dominate large appends.
   */
  #scratch = Buffer.allocUnsafeSlow(64 * 1024);

  private constructor(directory: string, options: ParsedLogOptions, segments: LogSegment[]) {
    assert(segments.length > 0, 'a log has at least one segment');
    this.directory = directory;
    this.#options = options;
    this.#segments = segments;
    this.#sizeBytes = segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    this.#committedOffset = this.#active().nextOffset;
    const fsync = options.fsync;
    switch (fsync.kind) {
      case 'always':
        this.#groupCommit = new GroupCommit(
          () => this.#syncActive(),
          (error) => this.#fail(error),
          this.#committedOffset,
        );
        break;
      case 'interval':
        this.#groupCommit = undefined;
        this.#armInterval(fsync.intervalMs);
        break;
      case 'never':
        this.#groupCommit = undefined;
        break;
    }
  }

  /** Opens (recovering) or creates the log in `directory`. */
  static async open(directory: string, options: LogOptions = {}): Promise<FileLog> {
    const parsed = parseLogOptions(options);
    await fs.promises.mkdir(directory, { recursive: true });
    const names = await fs.promises.readdir(directory);
    const logBases = new Set<number>();
    for (const name of names) {
      const match = segmentFilePattern.exec(name);
      if (match?.[2] === 'log') logBases.add(Number(match[1]));
    }
    // Index files whose segment is gone are left over from a deletion cut short by a crash.
    for (const name of names) {
      const match = segmentFilePattern.exec(name);
      if (match !== null && match[2] !== 'log' && !logBases.has(Number(match[1]))) {
        fs.rmSync(path.join(directory, name), { force: true });
      }
    }
    const bases = [...logBases].sort((left, right) => left - right);
    const segments: LogSegment[] = [];
    try {
      if (bases.length === 0) {
        segments.push(LogSegment.create(directory, 0, parsed.indexIntervalBytes));
        syncDirectory(directory);
      }
      for (let index = 0; index < bases.length; index++) {
        const baseOffset = bases[index]!;
        assert(Number.isSafeInteger(baseOffset), 'segment file names are safe integers');
        const segment = LogSegment.open(directory, baseOffset, parsed.indexIntervalBytes);
        segments.push(segment);
        const isLast = index === bases.length - 1;
        recoverSegment(segment, isLast);
        if (isLast) continue;
        const nextBase = bases[index + 1]!;
        if (segment.nextOffset !== nextBase) {
          throw new CorruptLogError(
            segment.logPath,
            segment.sizeBytes,
            `segment ends at offset ${segment.nextOffset} but the next segment starts at ${nextBase}`,
          );
        }
        segment.sealLocked(false);
      }
    } catch (error) {
      for (const segment of segments) segment.closeLocked();
      throw error;
    }
    return new FileLog(directory, parsed, segments);
  }

  get startOffset(): Offset {
    return Offset(this.#segments[0]!.baseOffset);
  }

  get nextOffset(): Offset {
    return Offset(this.#active().nextOffset);
  }

  get activeSegmentBaseOffset(): Offset {
    return Offset(this.#active().baseOffset);
  }

  get committedOffset(): Offset {
    return Offset(this.#committedOffset);
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** fsyncs done by group commit and the records they covered (for the benchmark). */
  get groupCommitStats(): { syncCount: number; recordsCovered: number } {
    return {
      syncCount: this.#groupCommit?.syncCount ?? 0,
      recordsCovered: this.#groupCommit?.recordsCovered ?? 0,
    };
  }

  append(batch: BatchInput): Promise<AppendResult> {
    try {
      return this.#appendLocked(batch);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  #appendLocked(batch: BatchInput): Promise<AppendResult> {
    this.#checkWritable();
    const groupCommit = this.#groupCommit;
    if (groupCommit !== undefined && groupCommit.waitingCount >= Limits.logAppendsWaitingMax) {
      throw new WeirError(
        ErrorCode.Overloaded,
        `${groupCommit.waitingCount} appends already wait for their fsync; logAppendsWaitingMax is ${Limits.logAppendsWaitingMax}`,
      );
    }
    const size = measureBatch(batch);
    const nowMs = this.#options.clock.nowMs();
    let active = this.#active();
    if (
      active.createdAtMs !== undefined &&
      (active.sizeBytes + size > this.#options.segmentBytesMax ||
        nowMs - active.createdAtMs >= this.#options.segmentAgeMs)
    ) {
      active = this.#rollLocked();
    }
    const baseOffset = active.nextOffset;
    if (size > this.#scratch.length) {
      this.#scratch = Buffer.allocUnsafeSlow(Math.min(Limits.batchBytesMax, 2 ** Math.ceil(Math.log2(size))));
    }
    const bytes = encodeBatch(batch, size, Offset(baseOffset), nowMs, this.#scratch);
    const recordCount = batch.records.length;
    try {
      active.appendLocked(bytes, baseOffset, recordCount, peekMaxTimestampMs(bytes, 0), nowMs);
    } catch (error) {
      if (error instanceof WeirError && error.code === ErrorCode.StorageFailed) this.#fail(error);
      throw error;
    }
    this.#sizeBytes += size;
    const result: AppendResult = {
      baseOffset: Offset(baseOffset),
      lastOffset: Offset(baseOffset + recordCount - 1),
    };
    if (groupCommit !== undefined) return groupCommit.wait(result.lastOffset, result);
    active.readableBytes = active.sizeBytes;
    this.#committedOffset = active.nextOffset;
    return Promise.resolve(result);
  }

  async read(fromOffset: Offset, maxBytes: number): Promise<RecordBatch[]> {
    this.#checkOpen();
    checkReadRange(fromOffset, maxBytes, this.startOffset, this.nextOffset);
    const out: RecordBatch[] = [];
    if (fromOffset >= this.#committedOffset) return out;
    const segments = this.#segments;
    let bytes = 0;
    for (let index = this.#segmentIndexFor(segments, fromOffset); index < segments.length; index++) {
      const segment = segments[index]!;
      if (segment.nextOffset <= fromOffset) continue;
      const read = await segment.read(Math.max(fromOffset, segment.baseOffset), maxBytes, out, bytes);
      bytes = read.bytes;
      if (!read.reachedEnd || bytes >= maxBytes) break;
    }
    return out;
  }

  async offsetForTimestamp(timestampMs: number): Promise<Offset> {
    this.#checkOpen();
    for (const segment of this.#segments) {
      const found = await segment.offsetForTimestamp(timestampMs);
      if (found !== undefined) return Offset(found);
    }
    return this.nextOffset;
  }

  async deleteBefore(offset: Offset): Promise<void> {
    this.#checkWritable();
    this.#retireLocked(segmentsBelow(this.#segments, offset));
  }

  async enforceRetention(policy: RetentionPolicy, nowMs: number): Promise<Offset> {
    this.#checkWritable();
    checkRetentionPolicy(policy);
    this.#retireLocked(segmentsToRetire(this.#segments, policy, nowMs));
    return this.startOffset;
  }

  async flush(): Promise<void> {
    this.#checkWritable();
    this.#active().persistIndexesLocked();
    await this.#syncActive();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#intervalTimer?.cancel();
    try {
      await this.#groupCommit?.drained();
      await this.#intervalSync;
      if (this.#failure === undefined) await this.#syncActive();
    } finally {
      for (const segment of this.#segments) segment.closeLocked();
    }
  }

  /** One fsync of the active segment; resolves with the offset it covers. */
  async #syncActive(): Promise<number> {
    const segment = this.#active();
    const offset = segment.nextOffset;
    const sizeBytes = segment.sizeBytes;
    await segment.sync();
    if (segment.readableBytes < sizeBytes) segment.readableBytes = sizeBytes;
    if (offset > this.#committedOffset) this.#committedOffset = offset;
    this.#groupCommit?.covered(offset);
    return offset;
  }

  #armInterval(intervalMs: number): void {
    this.#intervalTimer = this.#options.clock.setTimeout(() => {
      if (this.#closed || this.#failure !== undefined) return;
      this.#intervalSync = this.#syncActive().then(
        () => {
          this.#intervalSync = undefined;
          if (!this.#closed) this.#armInterval(intervalMs);
        },
        (error: Error) => {
          this.#intervalSync = undefined;
          this.#fail(error);
        },
      );
    }, intervalMs);
  }

  #rollLocked(): LogSegment {
    const old = this.#active();
    assert(!old.isEmpty, 'only a segment holding batches rolls');
    const durable = this.#options.fsync.kind !== 'never';
    try {
      old.sealLocked(durable);
      const segment = LogSegment.create(this.directory, old.nextOffset, this.#options.indexIntervalBytes);
      if (durable) syncDirectory(this.directory);
      this.#segments.push(segment);
    } catch (error) {
      const failure = error instanceof WeirError ? error : storageFailed(`rolling ${old.logPath}`, error);
      this.#fail(failure);
      throw failure;
    }
    if (durable) {
      old.readableBytes = old.sizeBytes;
      if (old.nextOffset > this.#committedOffset) this.#committedOffset = old.nextOffset;
      this.#groupCommit?.covered(old.nextOffset);
    }
    return this.#active();
  }

  #retireLocked(count: number): void {
    if (count === 0) return;
    if (count === this.#segments.length) this.#rollLocked();
    const retired = this.#segments.slice(0, count);
    this.#segments = this.#segments.slice(count);
    for (const segment of retired) {
      this.#sizeBytes -= segment.sizeBytes;
      segment.delete();
    }
    // Deleted segments must not come back after a power loss, with the start offset behind them.
    if (this.#options.fsync.kind === 'never') return;
    try {
      syncDirectory(this.directory);
    } catch (error) {
      throw storageFailed(`fsync of ${this.directory}`, error);
    }
  }

  #segmentIndexFor(segments: readonly LogSegment[], offset: number): number {
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  #active(): LogSegment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#groupCommit?.fail(error);
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.LogClosed, 'the log is closed');
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#failure !== undefined) {
      throw new WeirError(ErrorCode.StorageFailed, `the log failed earlier: ${this.#failure.message}`, {
        cause: this.#failure,
      });
    }
  }
}

export function openFileLog(directory: string, options: LogOptions = {}): Promise<FileLog> {
  return FileLog.open(directory, options);
}
