// Compaction by key (DESIGN.md §3, docs/compaction.md; Kafka's cleanup.policy=compact):
// what stays and how the kept records are re-encoded. Shared by FileLog and MemoryLog,
// which differ only in where segments are read from and written to (for files:
// compacted-segment-file.ts, and the swap in compaction-swap.ts).
//
// One run:
// 1. Map: read the sealed segments from the log's start and note each key's latest offset,
//    up to Limits.compactionKeysMax keys. The map covers offsets [start, mapEnd): mapEnd is
//    the active segment's base, or the first record whose key did not fit.
// 2. Rewrite: every sealed segment that holds an offset below mapEnd is read again, and a
//    record below mapEnd stays when it is its key's latest, unless it is a tombstone older
//    than tombstoneRetentionMs. Records without a key, and records from mapEnd on, stay.
//    Each run of consecutive kept offsets of a batch becomes one batch flagged `compacted`
//    (offsets inside a batch stay dense; the gaps fall between batches).
// 3. Group: kept batches go to new segments, several adjacent input segments into one as
//    long as the output stays under segmentBytesMax (so small compacted segments merge).
//    A new segment is named by the base offset of its group's first input, so its first
//    batch may start later and the log's start offset stays; a group left empty adds no
//    segment: its offsets become a gap at the end of the previous one or, for the first
//    group, the log's start moves up past them (an empty segment file could not be told
//    from a truncated one).
//
// The map holds every sealed segment, not only the dirty ones: a tombstone may be dropped
// only when no earlier record of its key survives, which a run limited by the key map could
// otherwise leave behind.

import { assert } from '../common/assert.js';
import { Offset } from '../common/branded.js';
import { ErrorCode, InvalidArgumentError, isWeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { CompactionOptions, CompactionResult, LogRecord, RecordBatch, RecordInput } from './log.js';
import { BatchFlags } from './log.js';
import { DecodedBatch, encodeBatch, measureBatch } from './record-batch.js';

export interface ParsedCompactionOptions {
  readonly keyOf: (record: LogRecord) => Buffer | undefined;
  readonly isTombstone: (record: LogRecord) => boolean;
  readonly tombstoneRetentionMs: number;
  readonly dirtyRatioMin: number;
  readonly nowMs: number;
}

export function parseCompactionOptions(options: CompactionOptions): ParsedCompactionOptions {
  const { tombstoneRetentionMs, dirtyRatioMin, nowMs } = options;
  if (!Number.isSafeInteger(tombstoneRetentionMs) || tombstoneRetentionMs < 0) {
    throw new InvalidArgumentError(
      `tombstoneRetentionMs must be a non-negative integer, got ${tombstoneRetentionMs}`,
    );
  }
  if (typeof dirtyRatioMin !== 'number' || !(dirtyRatioMin >= 0 && dirtyRatioMin <= 1)) {
    throw new InvalidArgumentError(`dirtyRatioMin must be from 0 to 1, got ${dirtyRatioMin}`);
  }
  if (!Number.isSafeInteger(nowMs)) throw new InvalidArgumentError(`nowMs must be an integer, got ${nowMs}`);
  return {
    keyOf: options.keyOf ?? ((record) => record.key),
    isTombstone: options.isTombstone ?? ((record) => record.value.length === 0),
    tombstoneRetentionMs,
    dirtyRatioMin,
    nowMs,
  };
}

/** What compaction needs to know about a segment. */
export interface CompactableSegment {
  readonly baseOffset: number;
  /** One past its last offset, gaps included: the next segment's base for a sealed one. */
  readonly nextOffset: number;
  readonly sizeBytes: number;
  /** Written by compaction (its batches carry BatchFlags.compacted). */
  readonly compacted: boolean;
}

/** The share of sealed bytes in segments compaction has not rewritten yet; 0 when none. */
export function dirtyRatio(sealed: readonly CompactableSegment[]): number {
  let total = 0;
  let dirty = 0;
  for (const segment of sealed) {
    total += segment.sizeBytes;
    if (!segment.compacted) dirty += segment.sizeBytes;
  }
  return total === 0 ? 0 : dirty / total;
}

/** The result of a run that rewrote nothing (too clean a log, or a run given up). */
export function noCompaction(dirtyRatioOfSealed: number): CompactionResult {
  return {
    compacted: false,
    dirtyRatio: dirtyRatioOfSealed,
    segmentsReplaced: 0,
    segmentsWritten: 0,
    recordsRemoved: 0,
    bytesBefore: 0,
    bytesAfter: 0,
  };
}

/** Each key's latest offset, for keys seen up to the map's limit. */
export class LatestOffsets {
  readonly #latest = new Map<string, number>();
  readonly #keysMax: number;

  constructor(keysMax: number = Limits.compactionKeysMax) {
    this.#keysMax = keysMax;
  }

  get size(): number {
    return this.#latest.size;
  }

  /** Notes `offset` as `key`'s latest; false (and nothing noted) when the key is new and the map full. */
  add(key: Buffer, offset: number): boolean {
    const text = key.toString('latin1');
    const previous = this.#latest.get(text);
    if (previous === undefined && this.#latest.size >= this.#keysMax) return false;
    assert(previous === undefined || previous < offset, 'keys are mapped in offset order');
    this.#latest.set(text, offset);
    return true;
  }

  get(key: Buffer): number | undefined {
    return this.#latest.get(key.toString('latin1'));
  }
}

/** Whether compaction keeps `record` (see the module header). */
export function keepsRecord(
  record: LogRecord,
  options: ParsedCompactionOptions,
  latest: LatestOffsets,
  mapEnd: number,
): boolean {
  if (record.offset >= mapEnd) return true;
  const key = options.keyOf(record);
  if (key === undefined) return true;
  const latestOffset = latest.get(key);
  assert(latestOffset !== undefined && latestOffset >= record.offset, 'a mapped record has a latest offset');
  if (latestOffset !== record.offset) return false;
  return !(options.isTombstone(record) && options.nowMs - record.timestampMs >= options.tombstoneRetentionMs);
}

/**
 * The encoded batches holding the records of `batch` that `keep` accepts: the batch itself
 * when it was compacted before and keeps everything, else one new batch per run of
 * consecutive kept offsets, with the batch's producer fields (the base sequence moved along)
 * and flags plus `compacted`.
 */
export function rewriteBatch(
  batch: RecordBatch,
  keep: (record: LogRecord) => boolean,
): { batches: Buffer[]; removed: number } {
  const runs: LogRecord[][] = [];
  let run: LogRecord[] = [];
  let removed = 0;
  for (const record of batch.records()) {
    if (keep(record)) {
      run.push(record);
      continue;
    }
    removed++;
    if (run.length > 0) runs.push(run);
    run = [];
  }
  if (run.length > 0) runs.push(run);
  if (removed === 0 && (batch.flags & BatchFlags.compacted) !== 0) return { batches: [batch.bytes], removed };
  const batches: Buffer[] = [];
  for (const records of runs) {
    const first = records[0]!;
    try {
      batches.push(encodeRun(batch, records));
    } catch (error) {
      // A run whose timestamps lie further apart than one batch allows (its records came from
      // both ends of a batch that only allowed them from its own first): one batch each.
      if (!isWeirError(error, ErrorCode.InvalidArgument)) throw error;
      assert(records.length > 1, `a single record re-encodes (offset ${first.offset})`);
      for (const record of records) batches.push(encodeRun(batch, [record]));
    }
  }
  return { batches, removed };
}

function encodeRun(batch: RecordBatch, records: readonly LogRecord[]): Buffer {
  const first = records[0]!;
  const inputs: RecordInput[] = records.map((record) => ({
    timestampMs: record.timestampMs,
    key: record.key,
    value: record.value,
  }));
  const sequenceShift = first.offset - batch.baseOffset;
  const input = {
    records: inputs,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence < 0 ? batch.baseSequence : (batch.baseSequence + sequenceShift) | 0,
    flags: batch.flags | BatchFlags.compacted,
  };
  const size = measureBatch(input);
  return encodeBatch(input, size, Offset(first.offset), first.timestampMs);
}

/** Where a run writes the kept batches: one new segment. */
export interface CompactedOutput {
  /** Its first input's base offset; its first batch may start later. */
  readonly baseOffset: number;
  readonly sizeBytes: number;
  append(batch: DecodedBatch): Promise<void>;
}

/** How a run reads and writes; FileLog and MemoryLog each provide one. */
export interface CompactionIo<S extends CompactableSegment, O extends CompactedOutput> {
  /** The segment's batches in order; throws when the segment went away meanwhile. */
  batches(segment: S): AsyncIterable<RecordBatch>;
  newOutput(baseOffset: number): O;
  /** The output is complete (for files: written and fsynced). */
  finishOutput(output: O): Promise<void>;
}

export interface CompactionPlan<S, O> {
  /** The leading sealed segments the outputs replace. */
  readonly inputs: readonly S[];
  /** New segments, none empty, in offset order. */
  readonly outputs: readonly O[];
  readonly recordsRemoved: number;
}

/**
 * Runs the map and rewrite steps over `sealed` (the log's sealed segments, in order) and
 * returns what replaces what; the caller swaps them in. Outputs are finished (durable for
 * files) before this returns; on a throw the caller abandons the ones `io.newOutput` made.
 */
export async function compactSegments<S extends CompactableSegment, O extends CompactedOutput>(
  sealed: readonly S[],
  options: ParsedCompactionOptions,
  segmentBytesMax: number,
  io: CompactionIo<S, O>,
): Promise<CompactionPlan<S, O>> {
  assert(sealed.length > 0, 'compaction has sealed segments to work on');
  const latest = new LatestOffsets();
  let mapEnd = sealed[sealed.length - 1]!.nextOffset;
  let lastInput = sealed.length - 1;
  mapping: for (let index = 0; index < sealed.length; index++) {
    for await (const batch of io.batches(sealed[index]!)) {
      for (const record of batch.records()) {
        const key = options.keyOf(record);
        if (key === undefined || latest.add(key, record.offset)) continue;
        mapEnd = record.offset;
        lastInput = index;
        break mapping;
      }
    }
  }
  const inputs = sealed.slice(0, lastInput + 1);
  const outputs: O[] = [];
  let recordsRemoved = 0;
  const keep = (record: LogRecord): boolean => keepsRecord(record, options, latest, mapEnd);
  // A group of adjacent inputs becomes one output named by the group's first base offset.
  let groupBase = inputs[0]!.baseOffset;
  let output: O | undefined;
  for (const segment of inputs) {
    // Merge into the current group only while even a segment that keeps everything fits,
    // and relative offsets stay within 32 bits.
    const full = output !== undefined && output.sizeBytes + segment.sizeBytes > segmentBytesMax;
    if (full || segment.nextOffset - groupBase > 0xffff_ffff) {
      if (output !== undefined) await io.finishOutput(output);
      output = undefined;
      groupBase = segment.baseOffset;
    }
    for await (const batch of io.batches(segment)) {
      const rewritten = rewriteBatch(batch, keep);
      recordsRemoved += rewritten.removed;
      for (const bytes of rewritten.batches) {
        if (output === undefined) {
          output = io.newOutput(groupBase);
          outputs.push(output);
        }
        await output.append(new DecodedBatch(bytes));
      }
    }
  }
  if (output !== undefined) await io.finishOutput(output);
  return { inputs, outputs, recordsRemoved };
}
