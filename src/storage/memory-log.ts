// MemoryLog: the Log seam kept in memory, for `storage: memory` streams and for tests of the
// layers above. It keeps the same segments as FileLog (rolled by size and age, retired whole)
// and stores each batch in its encoded form, so both implementations pass one contract suite
// and a reader gets the same RecordBatch either way. Nothing is durable: every fsync policy
// resolves an append once it is stored.
//
// Single-threaded by construction: every method but compact runs to completion without
// awaiting; compact swaps its new segments in with one synchronous step at its end.

import { Offset } from '../common/branded.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import { assert } from '../common/assert.js';
import type { CompactedOutput } from './compaction.js';
import { compactSegments, dirtyRatio, noCompaction, parseCompactionOptions } from './compaction.js';
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
import { DecodedBatch, encodeBatch, measureAppendedBatch } from './record-batch.js';
import type { SegmentSummary } from './retention.js';
import { segmentsBelow, segmentsToRetire } from './retention.js';

/** A new segment being filled by compaction. */
class MemoryOutput implements CompactedOutput {
  readonly baseOffset: number;
  sizeBytes = 0;
  readonly batches: DecodedBatch[] = [];

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  async append(batch: DecodedBatch): Promise<void> {
    this.batches.push(batch);
    this.sizeBytes += batch.bytes.length;
  }
}

class MemorySegment implements SegmentSummary {
  readonly baseOffset: number;
  nextOffset: number;
  sizeBytes = 0;
  maxTimestampMs = -Infinity;
  /** Clock time of the first append; undefined while empty. */
  createdAtMs: number | undefined;
  /** Written by compaction (see compaction.ts). */
  compacted = false;
  readonly batches: DecodedBatch[] = [];

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
  }

  /** Index of the batch holding `offset` (baseOffset ≤ offset < nextOffset). */
  batchIndexFor(offset: number): number {
    let low = 0;
    let high = this.batches.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.batches[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

export class MemoryLog implements Log {
  readonly #options: ParsedLogOptions;
  #segments: MemorySegment[];
  #closed = false;
  #sizeBytes = 0;
  #compaction: Promise<CompactionResult> | undefined;

  constructor(options: ParsedLogOptions, startOffset = 0) {
    this.#options = options;
    this.#segments = [new MemorySegment(startOffset)];
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
    return this.nextOffset;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  async append(batch: BatchInput): Promise<AppendResult> {
    this.#checkOpen();
    const size = measureAppendedBatch(batch);
    const nowMs = this.#options.clock.nowMs();
    let active = this.#active();
    if (
      active.createdAtMs !== undefined &&
      (active.sizeBytes + size > this.#options.segmentBytesMax ||
        nowMs - active.createdAtMs >= this.#options.segmentAgeMs)
    ) {
      active = this.#roll();
    }
    const baseOffset = Offset(active.nextOffset);
    const decoded = new DecodedBatch(encodeBatch(batch, size, baseOffset, nowMs));
    active.batches.push(decoded);
    active.createdAtMs ??= nowMs;
    active.nextOffset = decoded.lastOffset + 1;
    active.sizeBytes += size;
    active.maxTimestampMs = Math.max(active.maxTimestampMs, decoded.maxTimestampMs);
    this.#sizeBytes += size;
    return { baseOffset, lastOffset: decoded.lastOffset };
  }

  async read(fromOffset: Offset, maxBytes: number): Promise<RecordBatch[]> {
    this.#checkOpen();
    checkReadRange(fromOffset, maxBytes, this.startOffset, this.nextOffset);
    const result: RecordBatch[] = [];
    let bytes = 0;
    let segmentIndex = this.#segmentIndexFor(fromOffset);
    let batchIndex = -1;
    for (; segmentIndex < this.#segments.length; segmentIndex++) {
      const segment = this.#segments[segmentIndex]!;
      if (segment.nextOffset <= fromOffset) continue;
      batchIndex = batchIndex < 0 ? segment.batchIndexFor(fromOffset) : 0;
      for (; batchIndex < segment.batches.length; batchIndex++) {
        const batch = segment.batches[batchIndex]!;
        // Compaction leaves gaps: the batch found may end before the offset asked for.
        if (batch.lastOffset < fromOffset) continue;
        if (result.length > 0 && bytes + batch.bytes.length > maxBytes) return result;
        result.push(batch);
        bytes += batch.bytes.length;
      }
      batchIndex = 0;
    }
    return result;
  }

  async offsetForTimestamp(timestampMs: number): Promise<Offset> {
    this.#checkOpen();
    for (const segment of this.#segments) {
      if (segment.maxTimestampMs < timestampMs) continue;
      for (const batch of segment.batches) {
        const offset = batch.firstOffsetAtOrAfter(timestampMs);
        if (offset !== undefined) return offset;
      }
    }
    return this.nextOffset;
  }

  async deleteBefore(offset: Offset): Promise<void> {
    this.#checkOpen();
    this.#retire(segmentsBelow(this.#segments, offset));
  }

  async enforceRetention(policy: RetentionPolicy, nowMs: number): Promise<Offset> {
    this.#checkOpen();
    checkRetentionPolicy(policy);
    this.#retire(segmentsToRetire(this.#segments, policy, nowMs));
    return this.startOffset;
  }

  compact(options: CompactionOptions): Promise<CompactionResult> {
    try {
      this.#checkOpen();
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
    const plan = await compactSegments(sealed, options, this.#options.segmentBytesMax, {
      batches: async function* (segment: MemorySegment) {
        yield* segment.batches;
      },
      newOutput: (baseOffset) => new MemoryOutput(baseOffset),
      finishOutput: async () => {},
    });
    // Appends only touch the active segment; retention may have retired inputs meanwhile.
    const inputs = plan.inputs;
    if (this.#closed || inputs.some((segment, index) => this.#segments[index] !== segment)) return skipped;
    const following = this.#segments[inputs.length];
    assert(following !== undefined, 'compaction leaves the active segment alone');
    const replacements = plan.outputs.map((output, index) => {
      const segment = new MemorySegment(output.baseOffset);
      segment.batches.push(...output.batches);
      segment.compacted = true;
      segment.sizeBytes = output.sizeBytes;
      segment.nextOffset = plan.outputs[index + 1]?.baseOffset ?? following.baseOffset;
      segment.createdAtMs = output.batches[0]?.firstTimestampMs;
      for (const batch of output.batches) {
        segment.maxTimestampMs = Math.max(segment.maxTimestampMs, batch.maxTimestampMs);
      }
      return segment;
    });
    const bytesBefore = inputs.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    const bytesAfter = replacements.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    this.#segments = [...replacements, ...this.#segments.slice(inputs.length)];
    this.#sizeBytes += bytesAfter - bytesBefore;
    return {
      compacted: true,
      dirtyRatio: ratio,
      segmentsReplaced: inputs.length,
      segmentsWritten: replacements.length,
      recordsRemoved: plan.recordsRemoved,
      bytesBefore,
      bytesAfter,
    };
  }

  async flush(): Promise<void> {
    this.#checkOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #active(): MemorySegment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #roll(): MemorySegment {
    const segment = new MemorySegment(this.#active().nextOffset);
    this.#segments.push(segment);
    return segment;
  }

  #retire(count: number): void {
    if (count === 0) return;
    if (count === this.#segments.length) this.#roll();
    for (const segment of this.#segments.splice(0, count)) this.#sizeBytes -= segment.sizeBytes;
  }

  #segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.#segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.#segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.LogClosed, 'the log is closed');
  }
}

export function createMemoryLog(options: LogOptions = {}): MemoryLog {
  return new MemoryLog(parseLogOptions(options));
}
