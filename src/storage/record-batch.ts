// The record-batch format: the unit the log writes, fsyncs, indexes and reads back whole.
//
// A batch, all integers big-endian:
//
//   position  bytes  field
//   0         4      magic            0x57524231 ("WRB1"), the format version
//   4         4      batchLength      bytes of the whole batch, header included
//   8         4      crc              CRC-32C of bytes 12 … batchLength-1
//   12        8      baseOffset       offset of the first record (unsigned, < 2^53)
//   20        4      recordCount      records in the batch, ≥ 1; offsets are dense
//   24        8      firstTimestampMs timestamp of the first record (signed, |t| < 2^53)
//   32        8      maxTimestampMs   largest record timestamp in the batch
//   40        8      producerId       idempotent producer id, -1 when not used (signed)
//   48        2      producerEpoch    signed, -1 when not used
//   50        4      baseSequence     signed, -1 when not used
//   54        2      flags            BatchFlags: bit 0 transactional, bit 1 control,
//                                     bit 2 compacted (offsets before it may be missing)
//   56        …      records
//
// A record:
//
//   0         4      recordLength     bytes of the record after this field
//   4         4      timestampDeltaMs signed, the record's timestamp minus firstTimestampMs
//   8         4      keyLength        signed, -1 when the record has no key
//   12        k      key
//   12+k      …      value            the rest of the record
//
// The CRC covers everything after itself, so a batch is either whole and exactly as written
// or detectably wrong; the length comes before the CRC so that a reader knows how much to
// check. Reading decodes records lazily: keys and values are slices of the batch bytes.

import { crc32c } from '@node-rs/crc32';
import { assert } from '../common/assert.js';
import { Offset, TimestampMs } from '../common/branded.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { BatchInput, LogRecord, RecordBatch, RecordVisitor } from './log.js';
import { BatchFlags } from './log.js';

export const batchMagic = 0x57524231;
export const batchHeaderBytes = 56;
export const recordHeaderBytes = 12;

const twoTo32 = 0x1_0000_0000;
/**
 * How far a record's timestamp may lie from its batch's first (the delta is an int32). A
 * caller that batches records of any age (a delayed message appended when due keeps the
 * time of its publish) starts a new batch rather than exceed it.
 */
export const timestampDeltaMsMax = 0x7fff_ffff;

/** Why a run of bytes is not a valid batch, or undefined when it is. */
export type BatchProblem = 'short header' | 'bad magic' | 'bad length' | 'truncated' | 'bad crc';

function writeUint53(buffer: Buffer, value: number, position: number): void {
  buffer.writeUInt32BE(Math.floor(value / twoTo32), position);
  buffer.writeUInt32BE(value >>> 0, position + 4);
}

function writeInt53(buffer: Buffer, value: number, position: number): void {
  const high = Math.floor(value / twoTo32);
  buffer.writeInt32BE(high, position);
  buffer.writeUInt32BE(value - high * twoTo32, position + 4);
}

function readUint53(buffer: Buffer, position: number): number {
  return buffer.readUInt32BE(position) * twoTo32 + buffer.readUInt32BE(position + 4);
}

function readInt53(buffer: Buffer, position: number): number {
  return buffer.readInt32BE(position) * twoTo32 + buffer.readUInt32BE(position + 4);
}

/**
 * Checks a batch a caller appends (not one compaction writes) and returns its encoded size:
 * the limits of `measureBatch`, and no `compacted` flag, which only compaction may set since
 * readers and recovery accept a gap in offsets before a batch that carries it.
 */
export function measureAppendedBatch(batch: BatchInput): number {
  if (((batch.flags ?? 0) & BatchFlags.compacted) !== 0) {
    throw new InvalidArgumentError('the compacted batch flag is set by compaction only, not by an append');
  }
  return measureBatch(batch);
}

/**
 * Checks a batch input against the named limits and returns the encoded size. Throws a
 * WeirError for input a user could send; nothing is assigned or written before this passes.
 */
export function measureBatch(batch: BatchInput): number {
  const records = batch.records;
  if (records.length === 0) throw new InvalidArgumentError('a batch needs at least one record');
  if (records.length > Limits.batchRecordsMax) {
    throw new WeirError(
      ErrorCode.BatchTooLarge,
      `batch has ${records.length} records; batchRecordsMax is ${Limits.batchRecordsMax}`,
    );
  }
  let size = batchHeaderBytes;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const recordBytes = recordHeaderBytes + (record.key?.length ?? 0) + record.value.byteLength;
    if (recordBytes > Limits.recordBytesMax) {
      throw new WeirError(
        ErrorCode.RecordTooLarge,
        `record ${index} takes ${recordBytes} bytes; recordBytesMax is ${Limits.recordBytesMax}`,
      );
    }
    size += recordBytes;
  }
  if (size > Limits.batchBytesMax) {
    throw new WeirError(
      ErrorCode.BatchTooLarge,
      `batch takes ${size} bytes; batchBytesMax is ${Limits.batchBytesMax}`,
    );
  }
  return size;
}

/**
 * Encodes a batch at `baseOffset` into `size` bytes (from measureBatch): the start of
 * `scratch` when given and large enough (the caller writes it out before the next encode),
 * else a new buffer. Records without a timestamp get `defaultTimestampMs`.
 */
export function encodeBatch(
  batch: BatchInput,
  size: number,
  baseOffset: Offset,
  defaultTimestampMs: number,
  scratch?: Buffer,
): Buffer {
  const records = batch.records;
  const buffer =
    scratch !== undefined && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
  const firstTimestampMs = records[0]!.timestampMs ?? defaultTimestampMs;
  let maxTimestampMs = firstTimestampMs;
  let position = batchHeaderBytes;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const timestampMs = record.timestampMs ?? defaultTimestampMs;
    const deltaMs = timestampMs - firstTimestampMs;
    if (
      !Number.isSafeInteger(timestampMs) ||
      deltaMs > timestampDeltaMsMax ||
      deltaMs < -timestampDeltaMsMax
    ) {
      throw new InvalidArgumentError(
        `record ${index} timestamp ${timestampMs} must be an integer within 24 days of the batch's first`,
      );
    }
    if (timestampMs > maxTimestampMs) maxTimestampMs = timestampMs;
    const key = record.key;
    const value = record.value;
    const keyLength = key === undefined ? 0 : key.length;
    const valueLength = value.byteLength;
    buffer.writeUInt32BE(recordHeaderBytes - 4 + keyLength + valueLength, position);
    buffer.writeInt32BE(deltaMs, position + 4);
    buffer.writeInt32BE(key === undefined ? -1 : keyLength, position + 8);
    position += recordHeaderBytes;
    if (key !== undefined) {
      key.copy(buffer, position);
      position += keyLength;
    }
    if (value instanceof Uint8Array) {
      buffer.set(value, position);
      position += valueLength;
    } else {
      const end = value.writeTo(buffer, position);
      assert(end === position + valueLength, 'a record value writes exactly its byteLength');
      position = end;
    }
  }
  assert(position === size, 'encoded batch size matches its measure');
  buffer.writeUInt32BE(batchMagic, 0);
  buffer.writeUInt32BE(size, 4);
  writeUint53(buffer, baseOffset, 12);
  buffer.writeUInt32BE(records.length, 20);
  writeInt53(buffer, firstTimestampMs, 24);
  writeInt53(buffer, maxTimestampMs, 32);
  buffer.writeBigInt64BE(batch.producerId ?? -1n, 40);
  buffer.writeInt16BE(batch.producerEpoch ?? -1, 48);
  buffer.writeInt32BE(batch.baseSequence ?? -1, 50);
  buffer.writeUInt16BE(batch.flags ?? 0, 54);
  buffer.writeUInt32BE(crc32c(buffer.subarray(12)), 8);
  return buffer;
}

/** Whether `bytes` looks like exactly one encoded batch at `baseOffset` (no CRC: cheap). */
export function isWholeBatchAt(bytes: Buffer, baseOffset: number): boolean {
  return (
    bytes.length >= batchHeaderBytes &&
    bytes.readUInt32BE(0) === batchMagic &&
    bytes.readUInt32BE(4) === bytes.length &&
    readUint53(bytes, 12) === baseOffset
  );
}

/** The length a batch header at `position` claims, or undefined when the header is cut off. */
export function peekBatchLength(buffer: Buffer, position: number): number | undefined {
  if (position + 8 > buffer.length) return undefined;
  return buffer.readUInt32BE(position + 4);
}

/** Validates the batch starting at `position` in `buffer`; undefined when it is whole and intact. */
export function checkBatch(buffer: Buffer, position: number): BatchProblem | undefined {
  if (position + batchHeaderBytes > buffer.length) return 'short header';
  if (buffer.readUInt32BE(position) !== batchMagic) return 'bad magic';
  const length = buffer.readUInt32BE(position + 4);
  if (length < batchHeaderBytes + recordHeaderBytes || length > Limits.batchBytesMax) return 'bad length';
  if (position + length > buffer.length) return 'truncated';
  const stored = buffer.readUInt32BE(position + 8);
  if (crc32c(buffer.subarray(position + 12, position + length)) !== stored) return 'bad crc';
  return undefined;
}

/** The first offset after the batch at `position` (header only, no CRC check). */
export function peekNextOffset(buffer: Buffer, position: number): number {
  return readUint53(buffer, position + 12) + buffer.readUInt32BE(position + 20);
}

export function peekBaseOffset(buffer: Buffer, position: number): number {
  return readUint53(buffer, position + 12);
}

export function peekFlags(buffer: Buffer, position: number): number {
  return buffer.readUInt16BE(position + 54);
}

/** Whether a batch may start past where the one before it ended (compaction removed records). */
export function followsGap(buffer: Buffer, position: number): boolean {
  return (peekFlags(buffer, position) & BatchFlags.compacted) !== 0;
}

export function peekFirstTimestampMs(buffer: Buffer, position: number): number {
  return readInt53(buffer, position + 24);
}

export function peekMaxTimestampMs(buffer: Buffer, position: number): number {
  return readInt53(buffer, position + 32);
}

/**
 * A batch read back from bytes that `checkBatch` accepted. The header is decoded once;
 * records are decoded on iteration as slices of `bytes`.
 */
export class DecodedBatch implements RecordBatch {
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

  /** `bytes` must be exactly one whole batch. */
  constructor(bytes: Buffer) {
    assert(bytes.length >= batchHeaderBytes && bytes.readUInt32BE(4) === bytes.length, 'whole batch');
    this.bytes = bytes;
    this.baseOffset = Offset(readUint53(bytes, 12));
    this.recordCount = bytes.readUInt32BE(20);
    assert(this.recordCount >= 1, 'a batch holds at least one record');
    this.lastOffset = Offset(this.baseOffset + this.recordCount - 1);
    this.firstTimestampMs = TimestampMs(readInt53(bytes, 24));
    this.maxTimestampMs = TimestampMs(readInt53(bytes, 32));
    this.producerId = bytes.readBigInt64BE(40);
    this.producerEpoch = bytes.readInt16BE(48);
    this.baseSequence = bytes.readInt32BE(50);
    this.flags = bytes.readUInt16BE(54);
  }

  /** The offset of the first record stamped at or after `timestampMs`, if any. */
  firstOffsetAtOrAfter(timestampMs: number): Offset | undefined {
    if (this.maxTimestampMs < timestampMs) return undefined;
    for (const record of this.records()) if (record.timestampMs >= timestampMs) return record.offset;
    assert(false, 'a batch whose max timestamp qualifies has a record that does');
  }

  visitRecords(visit: RecordVisitor): void {
    const bytes = this.bytes;
    let position = batchHeaderBytes;
    for (let index = 0; index < this.recordCount; index++) {
      assert(position + recordHeaderBytes <= bytes.length, 'record header inside its batch');
      const end = position + 4 + bytes.readUInt32BE(position);
      assert(end <= bytes.length, 'record inside its batch');
      const keyLength = bytes.readInt32BE(position + 8);
      const keyStart = position + recordHeaderBytes;
      const valueStart = keyLength < 0 ? keyStart : keyStart + keyLength;
      assert(valueStart <= end, 'key inside its record');
      if (!visit(this.baseOffset + index, bytes, valueStart, end)) return;
      position = end;
    }
    assert(position === bytes.length, 'records fill their batch exactly');
  }

  *records(): IterableIterator<LogRecord> {
    const bytes = this.bytes;
    let position = batchHeaderBytes;
    for (let index = 0; index < this.recordCount; index++) {
      assert(position + recordHeaderBytes <= bytes.length, 'record header inside its batch');
      const end = position + 4 + bytes.readUInt32BE(position);
      assert(end <= bytes.length, 'record inside its batch');
      const timestampMs = this.firstTimestampMs + bytes.readInt32BE(position + 4);
      const keyLength = bytes.readInt32BE(position + 8);
      const keyStart = position + recordHeaderBytes;
      const valueStart = keyLength < 0 ? keyStart : keyStart + keyLength;
      assert(valueStart <= end, 'key inside its record');
      yield {
        offset: Offset(this.baseOffset + index),
        timestampMs: TimestampMs(timestampMs),
        key: keyLength < 0 ? undefined : bytes.subarray(keyStart, valueStart),
        value: bytes.subarray(valueStart, end),
      };
      position = end;
    }
    assert(position === bytes.length, 'records fill their batch exactly');
  }
}
