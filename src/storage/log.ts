// The Log seam: an append-only sequence of record batches for one stream partition.
// Two implementations run one contract suite: FileLog (segmented files, the default) and
// MemoryLog (for `storage: memory` streams and for tests above this seam).
//
// Offsets are dense when appended: a batch of n records takes offsets baseOffset …
// baseOffset + n - 1. Compaction by key (compaction.ts) removes records from sealed
// segments and keeps the offsets of the rest, so a compacted log has gaps: a read from an
// offset that is gone starts at the next one still stored. Within one batch offsets stay
// dense; gaps lie between batches, before batches flagged `compacted`.
// Reads return whole batches as slices of what was read; records are decoded lazily from
// the batch bytes without copying.

import type { Offset, TimestampMs } from '../common/branded.js';
import type { Clock } from '../common/clock.js';

/** What a caller appends: one record of a batch. */
export interface RecordInput {
  /** Defaults to the time of append. */
  readonly timestampMs?: number;
  readonly key?: Buffer | undefined;
  readonly value: Buffer;
}

/** Batch attributes (DESIGN.md §3). */
export const BatchFlags = {
  none: 0,
  transactional: 1 << 0,
  control: 1 << 1,
  /**
   * Written by compaction: records before this batch (in its segment, or between its
   * segment and the previous one) may be missing. Readers and recovery accept a gap in
   * offsets only before a batch with this flag.
   */
  compacted: 1 << 2,
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
}

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

/**
 * How compaction by key treats records (Kafka's cleanup.policy=compact). Storage knows no
 * message format: the layer above says what a record's key is and which records are
 * tombstones, by functions that read the record bytes.
 */
export interface CompactionOptions {
  /** The key a record is compacted by; undefined keeps the record. Default: the record key. */
  readonly keyOf?: (record: LogRecord) => Buffer | undefined;
  /** Whether a keyed record deletes its key. Default: an empty value. */
  readonly isTombstone?: (record: LogRecord) => boolean;
  /** A tombstone whose timestamp is this old is dropped too (once it is its key's latest). */
  readonly tombstoneRetentionMs: number;
  /**
   * Compact only when the sealed segments not compacted yet hold at least this share of the
   * sealed bytes (0 … 1; Kafka's min.cleanable.dirty.ratio). 0 compacts whenever asked.
   */
  readonly dirtyRatioMin: number;
  /** The time tombstones are aged against. */
  readonly nowMs: number;
}

export interface CompactionResult {
  /** False when the dirty ratio was below dirtyRatioMin or there was nothing sealed. */
  readonly compacted: boolean;
  /** The dirty ratio found before the run. */
  readonly dirtyRatio: number;
  /** Sealed segments read and replaced; new segments written in their place. */
  readonly segmentsReplaced: number;
  readonly segmentsWritten: number;
  readonly recordsRemoved: number;
  /** Bytes of the replaced segments, and of what replaced them. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
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
  /**
   * The first offset still stored: retention and deleteBefore move it up, and so does
   * compaction when it removes every record of the oldest segments.
   */
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

  /**
   * Compacts the sealed segments by key (never the active one): of each key only the latest
   * record stays, a tombstone deletes its key and goes itself once older than
   * tombstoneRetentionMs; records without a key stay. Offsets are kept. Concurrent reads see
   * the old segments or the new ones, never a mix of a record's absence and presence out of
   * order. A second call while one runs waits for it and returns its result.
   */
  compact(options: CompactionOptions): Promise<CompactionResult>;

  /** Forces everything written to disk. */
  flush(): Promise<void>;

  /** Flushes and closes; further calls fail with WEIR_LOG_CLOSED. */
  close(): Promise<void>;
}
