// The Log seam: an append-only sequence of record batches for one stream partition.
// Two implementations run one contract suite: FileLog (segmented files, the default) and
// MemoryLog (for `storage: memory` streams and for tests above this seam).
//
// Offsets are dense: a batch of n records takes offsets baseOffset … baseOffset + n - 1.
// Reads return whole batches as slices of what was read; records are decoded lazily from
// the batch bytes without copying.

import type { Offset, TimestampMs } from '../common/branded.js';
import type { Clock } from '../common/clock.js';

/** What a caller appends: one record of a batch. */
export interface RecordInput {
  /** Defaults to the time of append. */
  readonly timestampMs?: number;
  readonly key?: Buffer | undefined;
  /** The value's bytes, copied into the batch; or a RecordValue that writes itself there. */
  readonly value: Buffer | RecordValue;
}

/**
 * A record value that encodes itself straight into the batch being written, so that a
 * caller holding objects (a stream's messages) builds no buffer per record only for the log
 * to copy it.
 */
export interface RecordValue {
  /** The bytes writeTo writes, exactly. */
  readonly byteLength: number;
  /** Writes the value at `target[position…]` and returns the position after it. */
  writeTo(target: Buffer, position: number): number;
}

/** Batch attributes (DESIGN.md §3). */
export const BatchFlags = {
  none: 0,
  transactional: 1 << 0,
  control: 1 << 1,
} as const;

export interface BatchInput {
  readonly records: readonly RecordInput[];
  /** Idempotent producer fields; -1 / 0 / -1 when not used. */
  readonly producerId?: bigint;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly flags?: number;
}

/** One record as read back: key and value are slices of the batch buffer. */
export interface LogRecord {
  readonly offset: Offset;
  readonly timestampMs: TimestampMs;
  readonly key: Buffer | undefined;
  readonly value: Buffer;
}

/** One batch as read back. `bytes` is the whole encoded batch, header included. */
export interface RecordBatch {
  readonly baseOffset: Offset;
  readonly lastOffset: Offset;
  readonly recordCount: number;
  readonly firstTimestampMs: TimestampMs;
  readonly maxTimestampMs: TimestampMs;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly flags: number;
  readonly bytes: Buffer;
  records(): IterableIterator<LogRecord>;
  /**
   * Calls `visit` for each record in offset order, with its value as `bytes[valueStart,
   * valueEnd)`, until it returns false: the hot read path's way through a batch, with no
   * object or slice per record.
   */
  visitRecords(visit: RecordVisitor): void;
}

export type RecordVisitor = (offset: number, bytes: Buffer, valueStart: number, valueEnd: number) => boolean;

export interface AppendResult {
  readonly baseOffset: Offset;
  readonly lastOffset: Offset;
}

/**
 * When an append resolves: `always` waits for the fsync that covers the batch (group
 * commit: one fsync serves every append waiting for it); `interval` resolves after the
 * write and fsyncs every `intervalMs`; `never` resolves after the write and leaves
 * flushing to the operating system.
 */
export type FsyncPolicy =
  | { readonly kind: 'always' }
  | { readonly kind: 'interval'; readonly intervalMs: number }
  | { readonly kind: 'never' };

export interface RetentionPolicy {
  /** Delete whole segments while the log is larger than this. */
  readonly maxBytes?: number;
  /** Delete whole segments whose newest record is older than this. */
  readonly maxAgeMs?: number;
}

/** How a log is opened; parsed and checked by parseLogOptions (log-options.ts). */
export interface LogOptions {
  /** Default `always`. */
  readonly fsync?: FsyncPolicy;
  /** Roll to a new segment once the active one holds this many bytes. */
  readonly segmentBytesMax?: number;
  /** Roll to a new segment once the active one is this old (from its first append). */
  readonly segmentAgeMs?: number;
  /** Bytes of log between two entries of the sparse offset and time indexes. */
  readonly indexIntervalBytes?: number;
  /** Time for record timestamps, segment age and the `interval` fsync timer. */
  readonly clock?: Clock;
}

export interface Log {
  /** The first offset still stored (after retention and deleteBefore). */
  readonly startOffset: Offset;
  /** The offset the next appended record will get (written, maybe not yet fsynced). */
  readonly nextOffset: Offset;
  /** Everything below this offset is durable under the log's fsync policy. */
  readonly committedOffset: Offset;
  /** Bytes stored, across all segments. */
  readonly sizeBytes: number;
  /** Segments stored, the active one included (there is always one). */
  readonly segmentCount: number;
  /**
   * The base offset of the active segment, the one appends go to. Deleting up to here
   * reclaims every sealed segment without forcing a roll; deleting beyond it retires the
   * active segment too, which costs a roll (new files, a directory fsync).
   */
  readonly activeSegmentBaseOffset: Offset;

  /** Appends one batch whole; resolves once it is as durable as the fsync policy promises. */
  append(batch: BatchInput): Promise<AppendResult>;

  /**
   * Whole batches from the one containing `fromOffset` onwards, stopping once `maxBytes`
   * is reached (at least one batch is returned if any exists). Empty at the end of the log.
   * Only committed batches are returned: a reader never sees a batch that a crash could
   * still take away under the fsync policy. Throws WEIR_OFFSET_OUT_OF_RANGE below
   * startOffset or above nextOffset, and CorruptLogError when stored bytes fail their CRC.
   */
  read(fromOffset: Offset, maxBytes: number): Promise<RecordBatch[]>;

  /** The first offset whose record has a timestamp at or after `timestampMs`, or nextOffset. */
  offsetForTimestamp(timestampMs: number): Promise<Offset>;

  /** Deletes every whole segment that lies entirely below `offset`. */
  deleteBefore(offset: Offset): Promise<void>;

  /** Applies the retention policy now; returns the new startOffset. */
  enforceRetention(policy: RetentionPolicy, nowMs: number): Promise<Offset>;

  /** Forces everything written to disk. */
  flush(): Promise<void>;

  /** Flushes and closes; further calls fail with WEIR_LOG_CLOSED. */
  close(): Promise<void>;
}
