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
// Compaction by key (compaction.ts) rewrites sealed segments off the event loop and swaps
// the new ones in with one synchronous step (compaction-swap.ts holds the on-disk protocol);
// a read that was under way on a replaced segment continues on the new segments from where
// it got to (the segment list's generation tells it). A sealed segment may then end before
// the next one starts: its nextOffset is the next segment's base.
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
import { CompactedSegmentFile } from './compacted-segment-file.js';
import { compactSegments, dirtyRatio, noCompaction, parseCompactionOptions } from './compaction.js';
import { commitSwap, recoverSwap, syncDirectory } from './compaction-swap.js';
import { GroupCommit } from './group-commit.js';
import type {
  AppendResult,
  BatchInput,
  CompactionOptions,
  CompactionResult,
  Log,
  LogOptions,
  RecordBatch,
  RetentionPolicy,
} from './log.js';
import type { ParsedLogOptions } from './log-options.js';
import { checkReadRange, checkRetentionPolicy, parseLogOptions } from './log-options.js';
import { LogSegment, storageFailed } from './log-segment.js';
import { encodeBatch, measureAppendedBatch, peekMaxTimestampMs } from './record-batch.js';
import { segmentsBelow, segmentsToRetire } from './retention.js';
import { recoverSegment } from './segment-recovery.js';

const segmentFilePattern = /^(\d{20})\.(log|index|timeindex)$/;

/** Thrown inside a compaction run that must stop (log closed, segments retired meanwhile). */
class CompactionAbandoned extends Error {}

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
  /** Bumped whenever compaction replaces segments, so that reads under way notice. */
  #generation = 0;
  #compaction: Promise<CompactionResult> | undefined;
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
    recoverSwap(directory);
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
        recoverSegment(segment, index === bases.length - 1);
      }
      for (let index = 0; index + 1 < segments.length; index++) {
        const segment = segments[index]!;
        const next = segments[index + 1]!;
        // Only compaction leaves gaps, and its segments start with a compacted batch.
        const gapAllowed = segment.compacted;
        if (segment.nextOffset > next.baseOffset || (segment.nextOffset < next.baseOffset && !gapAllowed)) {
          throw new CorruptLogError(
            segment.logPath,
            segment.sizeBytes,
            `segment ends at offset ${segment.nextOffset} but the next segment starts at ${next.baseOffset}`,
          );
        }
        // Compaction removed the records up to the next segment: the gap belongs to this one.
        segment.nextOffset = next.baseOffset;
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
    const size = measureAppendedBatch(batch);
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
    let segments = this.#segments;
    let generation = this.#generation;
    let bytes = 0;
    let next: number = fromOffset;
    let index = this.#segmentIndexFor(segments, next);
    while (index < segments.length) {
      const segment = segments[index]!;
      if (segment.nextOffset <= next) {
        index++;
        continue;
      }
      const read = await segment.read(Math.max(next, segment.baseOffset), maxBytes, out, bytes);
      bytes = read.bytes;
      if (out.length > 0) next = Math.max(next, out[out.length - 1]!.lastOffset + 1);
      if (bytes >= maxBytes && out.length > 0) break;
      if (generation !== this.#generation) {
        // Compaction swapped segments meanwhile: go on from `next` in the new list.
        segments = this.#segments;
        generation = this.#generation;
        next = Math.max(next, segments[0]!.baseOffset);
        index = this.#segmentIndexFor(segments, next);
        continue;
      }
      if (!read.reachedEnd) break;
      index++;
    }
    return out;
  }

  async offsetForTimestamp(timestampMs: number): Promise<Offset> {
    this.#checkOpen();
    search: for (;;) {
      const generation = this.#generation;
      for (const segment of this.#segments) {
        const found = await segment.offsetForTimestamp(timestampMs);
        // A replaced segment answers nothing: search the new ones.
        if (generation !== this.#generation) continue search;
        if (found !== undefined) return Offset(found);
      }
      return this.nextOffset;
    }
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

  compact(options: CompactionOptions): Promise<CompactionResult> {
    try {
      this.#checkWritable();
      const parsed = parseCompactionOptions(options);
      this.#compaction ??= this.#compactOnce(parsed).finally(() => {
        this.#compaction = undefined;
      });
      return this.#compaction;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  async #compactOnce(options: ReturnType<typeof parseCompactionOptions>): Promise<CompactionResult> {
    const sealed = this.#segments.slice(0, -1);
    const ratio = dirtyRatio(sealed);
    const skipped = noCompaction(ratio);
    if (sealed.length === 0 || ratio < options.dirtyRatioMin) return skipped;
    const outputs: CompactedSegmentFile[] = [];
    // Once the swap has begun its files belong to it: recovery finishes or undoes it.
    let swapBegun = false;
    try {
      const plan = await compactSegments(sealed, options, this.#options.segmentBytesMax, {
        batches: (segment) => this.#sealedBatches(segment),
        newOutput: (baseOffset) => {
          const output = new CompactedSegmentFile(
            this.directory,
            baseOffset,
            this.#options.indexIntervalBytes,
          );
          outputs.push(output);
          return output;
        },
        finishOutput: (output) => output.finish(),
      });
      const bytesBefore = plan.inputs.reduce((sum, segment) => sum + segment.sizeBytes, 0);
      this.#checkSwapPossible(plan.inputs);
      swapBegun = true;
      this.#swapLocked(plan.inputs, plan.outputs);
      return {
        compacted: true,
        dirtyRatio: ratio,
        segmentsReplaced: plan.inputs.length,
        segmentsWritten: plan.outputs.length,
        recordsRemoved: plan.recordsRemoved,
        bytesBefore,
        bytesAfter: plan.outputs.reduce((sum, output) => sum + output.sizeBytes, 0),
      };
    } catch (error) {
      if (!swapBegun) for (const output of outputs) await output.abandon();
      if (error instanceof CompactionAbandoned) return skipped;
      throw error;
    }
  }

  /** A sealed segment's batches, for compaction; stops the run when the segment goes away. */
  async *#sealedBatches(segment: LogSegment): AsyncGenerator<RecordBatch> {
    let from = segment.baseOffset;
    for (;;) {
      this.#checkCompactionMayGoOn(segment);
      const batches: RecordBatch[] = [];
      const { reachedEnd } = await segment.read(from, Limits.compactionReadBytes, batches, 0);
      this.#checkCompactionMayGoOn(segment);
      yield* batches;
      const last = batches[batches.length - 1];
      if (reachedEnd || last === undefined) return;
      from = last.lastOffset + 1;
    }
  }

  #checkCompactionMayGoOn(segment: LogSegment): void {
    if (this.#closed || this.#failure !== undefined || !this.#segments.includes(segment)) {
      throw new CompactionAbandoned('the log closed or retired segments during compaction');
    }
  }

  /** Replaces the leading sealed segments `inputs` by the finished `outputs`, on disk and here. */
  /** Whether the inputs of a run are still the log's leading segments; else the run stops. */
  #checkSwapPossible(inputs: readonly LogSegment[]): void {
    if (
      this.#closed ||
      this.#failure !== undefined ||
      inputs.some((segment, index) => this.#segments[index] !== segment)
    ) {
      throw new CompactionAbandoned('the log changed during compaction');
    }
  }

  #swapLocked(inputs: readonly LogSegment[], outputs: readonly CompactedSegmentFile[]): void {
    const following = this.#segments[inputs.length];
    assert(following !== undefined, 'compaction leaves the active segment alone');
    const added = outputs.map((output) => output.baseOffset);
    const replacements: LogSegment[] = [];
    try {
      commitSwap(
        this.directory,
        inputs.map((segment) => segment.baseOffset),
        added,
      );
    } catch (error) {
      // Whether the swap committed is unknown here: the next open finishes or rolls it back.
      const failure = storageFailed(`swapping compacted segments in ${this.directory}`, error);
      this.#fail(failure);
      throw failure;
    }
    for (const segment of inputs) {
      segment.markReplacedLocked();
      this.#sizeBytes -= segment.sizeBytes;
    }
    try {
      for (let index = 0; index < added.length; index++) {
        const segment = LogSegment.open(this.directory, added[index]!, this.#options.indexIntervalBytes);
        replacements.push(segment);
        recoverSegment(segment, false);
        assert(segment.compacted, 'a compacted segment starts with a compacted batch');
        const nextBase = added[index + 1] ?? following.baseOffset;
        assert(segment.nextOffset <= nextBase, 'compacted segments keep their offsets');
        segment.nextOffset = nextBase;
        segment.sealLocked(false);
        this.#sizeBytes += segment.sizeBytes;
      }
    } catch (error) {
      for (const segment of replacements) segment.closeLocked();
      const failure = error instanceof WeirError ? error : storageFailed(`opening compacted segments`, error);
      this.#fail(failure);
      throw failure;
    }
    this.#segments = [...replacements, ...this.#segments.slice(inputs.length)];
    this.#generation++;
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
      // A compaction run sees the log closed at its next step and abandons its files.
      await this.#compaction?.catch(() => undefined);
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
