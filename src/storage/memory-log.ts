// MemoryLog: the Log seam kept in memory, for `storage: memory` streams and for tests of the
// layers above. It keeps the same segments as FileLog (rolled by size and age, retired whole)
// and stores each batch in its encoded form, so both implementations pass one contract suite
// and a reader gets the same RecordBatch either way. Nothing is durable: every fsync policy
// resolves an append once it is stored.
//
// Single-threaded by construction: every method runs to completion without awaiting.

import { Offset } from '../common/branded.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import type { AppendResult, BatchInput, Log, LogOptions, RecordBatch, RetentionPolicy } from './log.js';
import type { ParsedLogOptions } from './log-options.js';
import { checkReadRange, checkRetentionPolicy, parseLogOptions } from './log-options.js';
import { DecodedBatch, encodeBatch, measureBatch } from './record-batch.js';
import type { SegmentSummary } from './retention.js';
import { segmentsBelow, segmentsToRetire } from './retention.js';

class MemorySegment implements SegmentSummary {
  readonly baseOffset: number;
  nextOffset: number;
  sizeBytes = 0;
  maxTimestampMs = -Infinity;
  /** Clock time of the first append; undefined while empty. */
  createdAtMs: number | undefined;
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
    const size = measureBatch(batch);
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
