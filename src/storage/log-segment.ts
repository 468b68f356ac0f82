// LogSegment: one `<baseOffset>.log` file of whole record batches with its offset and time
// indexes. A FileLog is a list of segments; only the last (active) one is written.
//
// One writer: the methods ending in `Locked` are called only by the FileLog that owns the
// segment, never concurrently with each other; they are synchronous, so no two appends can
// interleave. Reads are asynchronous and may run at any time, over bytes up to
// `readableBytes`, which only ever grows (or the segment is deleted, which waits for them).

import fs from 'node:fs';
import path from 'node:path';
import { assert } from '../common/assert.js';
import { CorruptLogError, ErrorCode, WeirError } from '../common/errors.js';
import type { RecordBatch } from './log.js';
import { OffsetIndex } from './offset-index.js';
import {
  batchHeaderBytes,
  checkBatch,
  followsGap,
  DecodedBatch,
  isWholeBatchAt,
  peekBatchLength,
} from './record-batch.js';
import { noTimestampMs, TimeIndex } from './time-index.js';

/** Persist index entries once this many are waiting, so that recovery has little to rescan. */
const indexEntriesPendingMax = 64;
/** Read at least this much per read call. */
const readChunkBytes = 256 * 1024;

export function segmentFileName(baseOffset: number, extension: 'log' | 'index' | 'timeindex'): string {
  return `${String(baseOffset).padStart(20, '0')}.${extension}`;
}

export function storageFailed(what: string, cause: unknown): WeirError {
  return new WeirError(ErrorCode.StorageFailed, `${what}: ${(cause as Error).message}`, { cause });
}

function readAt(fd: number, buffer: Buffer, position: number, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => {
      if (error === null) resolve(bytesRead);
      else reject(storageFailed(`reading ${file} at byte ${position}`, error));
    });
  });
}

const readWriteCreate = fs.constants.O_RDWR | fs.constants.O_CREAT;

export class LogSegment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  readonly offsetIndex = new OffsetIndex();
  readonly timeIndex = new TimeIndex();
  readonly #indexIntervalBytes: number;
  /**
   * The log file's descriptor: open while the segment is active, and for a sealed segment only
   * while a read or fsync uses it, so that a log holds one descriptor however many segments
   * it has.
   */
  #fd: number | undefined;
  /** The index files hold entries beyond what is in memory and must be cut back. */
  #indexFilesStale = false;

  nextOffset: number;
  sizeBytes = 0;
  /** Bytes a reader may see: whole batches that are as durable as the fsync policy says. */
  readableBytes = 0;
  /** Largest record timestamp; -Infinity while empty. */
  maxTimestampMs = -Infinity;
  /** When the segment received its first batch (for roll by age); undefined while empty. */
  createdAtMs: number | undefined;
  /** Written by compaction: its batches carry BatchFlags.compacted and offsets may have gaps. */
  compacted = false;

  /** Reads and fsyncs using #fd right now. */
  #users = 0;
  #sealed = false;
  #deleted = false;
  #closed = false;

  private constructor(directory: string, baseOffset: number, indexIntervalBytes: number, fd: number) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.logPath = path.join(directory, segmentFileName(baseOffset, 'log'));
    this.indexPath = path.join(directory, segmentFileName(baseOffset, 'index'));
    this.timeIndexPath = path.join(directory, segmentFileName(baseOffset, 'timeindex'));
    this.#indexIntervalBytes = indexIntervalBytes;
    this.#fd = fd;
  }

  /** Creates a new, empty segment; its files must not exist yet. */
  static create(directory: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const fd = fs.openSync(path.join(directory, segmentFileName(baseOffset, 'log')), 'wx+');
    const segment = new LogSegment(directory, baseOffset, indexIntervalBytes, fd);
    fs.rmSync(segment.indexPath, { force: true });
    fs.rmSync(segment.timeIndexPath, { force: true });
    return segment;
  }

  /** Opens an existing segment; call `recoverLocked` before using it. */
  static open(directory: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const fd = fs.openSync(path.join(directory, segmentFileName(baseOffset, 'log')), 'r+');
    return new LogSegment(directory, baseOffset, indexIntervalBytes, fd);
  }

  get isEmpty(): boolean {
    return this.nextOffset === this.baseOffset;
  }

  /**
   * Writes one encoded batch at the end of the segment with one write call and indexes it.
   * On a failed write the file is cut back to where it was, so no partial batch stays.
   */
  appendLocked(
    bytes: Buffer,
    baseOffset: number,
    recordCount: number,
    maxTimestampMs: number,
    nowMs: number,
  ): void {
    const fd = this.#fd;
    assert(
      fd !== undefined && !this.#sealed && !this.#closed && !this.#deleted,
      'append to the active segment',
    );
    assert(baseOffset === this.nextOffset, 'a batch starts where the segment ends');
    // The CRC was computed over these very bytes by encodeBatch; checking it again would double
    // the cost of an append, so the paired check here is the cheap one, and reads check the CRC.
    assert(isWholeBatchAt(bytes, baseOffset), 'a whole batch at its offset');
    const position = this.sizeBytes;
    assert(position + bytes.length <= 0xffff_ffff, 'segment positions fit 32 bits');
    try {
      let written = 0;
      while (written < bytes.length) {
        written += fs.writeSync(fd, bytes, written, bytes.length - written, position + written);
      }
    } catch (error) {
      try {
        fs.ftruncateSync(fd, position);
      } catch {
        // The write error below already makes the log refuse further appends.
      }
      throw storageFailed(`writing ${this.logPath} at byte ${position}`, error);
    }
    this.#indexLocked(baseOffset, position);
    this.sizeBytes = position + bytes.length;
    this.nextOffset = baseOffset + recordCount;
    if (maxTimestampMs > this.maxTimestampMs) this.maxTimestampMs = maxTimestampMs;
    this.createdAtMs ??= nowMs;
    if (this.offsetIndex.pendingCount >= indexEntriesPendingMax) this.persistIndexesLocked();
  }

  /** Takes in a batch found by recovery at `position`, already checked, as if appended. */
  restoreBatchLocked(
    bytes: Buffer,
    baseOffset: number,
    nextOffset: number,
    maxTimestampMs: number,
    position: number,
  ): void {
    assert(
      position === this.sizeBytes &&
        (baseOffset === this.nextOffset || (baseOffset > this.nextOffset && followsGap(bytes, 0))),
      'recovered batches are contiguous, in offsets too unless compaction left a gap',
    );
    assert(isWholeBatchAt(bytes, baseOffset), 'recovered batch is whole');
    this.#indexLocked(baseOffset, position);
    this.sizeBytes = position + bytes.length;
    this.nextOffset = nextOffset;
    if (maxTimestampMs > this.maxTimestampMs) this.maxTimestampMs = maxTimestampMs;
  }

  /** Adds index entries for the batch at `position` when the index interval says so. */
  #indexLocked(baseOffset: number, position: number): void {
    if (this.offsetIndex.count > 0 && position - this.offsetIndex.lastPosition() < this.#indexIntervalBytes)
      return;
    const relativeOffset = baseOffset - this.baseOffset;
    this.offsetIndex.append(relativeOffset, position);
    this.timeIndex.append(
      this.maxTimestampMs === -Infinity ? noTimestampMs : this.maxTimestampMs,
      relativeOffset,
    );
  }

  /**
   * Writes index entries not yet in their files, fsyncing them when `durable`; otherwise
   * there is no fsync, as recovery checks the indexes anyway. The files are opened for this
   * and closed again: it happens once per 64 entries.
   */
  persistIndexesLocked(durable = false): void {
    if (this.#closed || this.#deleted) return;
    if (this.offsetIndex.pendingCount === 0 && !this.#indexFilesStale && !durable) return;
    const indexFd = fs.openSync(this.indexPath, readWriteCreate);
    try {
      const timeIndexFd = fs.openSync(this.timeIndexPath, readWriteCreate);
      try {
        const offsetEntries = this.offsetIndex.takePending();
        const timeEntries = this.timeIndex.takePending();
        if (this.#indexFilesStale) {
          fs.ftruncateSync(indexFd, offsetEntries.filePosition);
          fs.ftruncateSync(timeIndexFd, timeEntries.filePosition);
          this.#indexFilesStale = false;
        }
        // The time index first: an offset entry whose time entry is missing is dropped on load.
        if (timeEntries.bytes.length > 0) {
          fs.writeSync(timeIndexFd, timeEntries.bytes, 0, undefined, timeEntries.filePosition);
        }
        if (offsetEntries.bytes.length > 0) {
          fs.writeSync(indexFd, offsetEntries.bytes, 0, undefined, offsetEntries.filePosition);
        }
        if (durable) {
          fs.fdatasyncSync(timeIndexFd);
          fs.fdatasyncSync(indexFd);
        }
      } finally {
        fs.closeSync(timeIndexFd);
      }
    } finally {
      fs.closeSync(indexFd);
    }
  }

  /** fdatasync of the log file, off the event loop. */
  sync(): Promise<void> {
    // Held as a user: retention may delete the segment, or a roll seal it, while the fsync
    // runs, and the descriptor must stay open until it ends.
    const fd = this.#acquire();
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (error) => {
        this.#release();
        if (error === null) resolve();
        else reject(storageFailed(`fsync of ${this.logPath}`, error));
      });
    });
  }

  /** Makes the segment and its indexes durable (when asked) and stops writing to it. */
  sealLocked(durable: boolean): void {
    this.persistIndexesLocked(durable);
    if (durable && this.#fd !== undefined) fs.fdatasyncSync(this.#fd);
    this.#sealed = true;
    this.#closeIfUnused();
  }

  /**
   * Appends to `out` the whole batches from the one holding `fromOffset` on, up to
   * `readableBytes`, stopping before `maxBytes` would be passed once `out` is not empty.
   * Returns the bytes in `out` and whether the segment's readable end was reached.
   */
  async read(
    fromOffset: number,
    maxBytes: number,
    out: RecordBatch[],
    bytesSoFar: number,
  ): Promise<{ bytes: number; reachedEnd: boolean }> {
    const end = this.readableBytes;
    const entry = this.offsetIndex.floorEntry(fromOffset - this.baseOffset);
    let position = entry < 0 ? 0 : this.offsetIndex.positionAt(entry);
    let expectedOffset =
      entry < 0 ? this.baseOffset : this.baseOffset + this.offsetIndex.relativeOffsetAt(entry);
    let bytes = bytesSoFar;
    let wantBytes = Math.max(readChunkBytes, maxBytes - bytes + this.#indexIntervalBytes);
    const fd = this.#acquire();
    // Deleted by retention since the caller chose it: nothing left to read here.
    if (fd === undefined) return { bytes, reachedEnd: true };
    try {
      while (position < end) {
        const chunk = Buffer.allocUnsafe(this.#readLength(position, wantBytes, end));
        const bytesRead = await readAt(fd, chunk, position, this.logPath);
        if (this.#deleted) return { bytes, reachedEnd: true };
        if (bytesRead < chunk.length) {
          throw new CorruptLogError(
            this.logPath,
            position + bytesRead,
            `the file ends before its written end ${end}`,
          );
        }
        let cursor = 0;
        while (cursor < bytesRead) {
          const length = peekBatchLength(chunk, cursor);
          if (length === undefined || cursor + length > bytesRead) {
            const claimed = length ?? batchHeaderBytes;
            if (position + cursor + claimed > end || claimed < batchHeaderBytes) {
              throw new CorruptLogError(
                this.logPath,
                position + cursor,
                'batch length runs past the written end',
              );
            }
            // A batch larger than what was read: read again from its start, big enough.
            wantBytes = Math.max(wantBytes, claimed);
            break;
          }
          const batchBytes = chunk.subarray(cursor, cursor + length);
          const problem = checkBatch(batchBytes, 0);
          if (problem !== undefined) throw new CorruptLogError(this.logPath, position + cursor, problem);
          const batch = new DecodedBatch(batchBytes);
          if (
            batch.baseOffset !== expectedOffset &&
            !(batch.baseOffset > expectedOffset && followsGap(batchBytes, 0))
          ) {
            throw new CorruptLogError(
              this.logPath,
              position + cursor,
              `batch has baseOffset ${batch.baseOffset} where ${expectedOffset} belongs`,
            );
          }
          expectedOffset = batch.lastOffset + 1;
          cursor += length;
          if (batch.lastOffset < fromOffset) continue;
          if (out.length > 0 && bytes + length > maxBytes) return { bytes, reachedEnd: false };
          out.push(batch);
          bytes += length;
        }
        position += cursor;
        if (bytes >= maxBytes) return { bytes, reachedEnd: position >= end };
        if (cursor > 0) wantBytes = Math.max(readChunkBytes, maxBytes - bytes);
      }
      return { bytes, reachedEnd: true };
    } finally {
      this.#release();
    }
  }

  /**
   * How much to read from `position`: about `wantBytes`, ending where an indexed batch starts
   * when one lies in reach, so that a read neither cuts a batch nor fetches bytes it drops.
   */
  #readLength(position: number, wantBytes: number, end: number): number {
    if (position + wantBytes >= end) return end - position;
    const boundary = this.offsetIndex.floorPosition(position + wantBytes);
    return boundary > position ? boundary - position : wantBytes;
  }

  /** The first offset in this segment stamped at or after `timestampMs`, if any. */
  async offsetForTimestamp(timestampMs: number): Promise<number | undefined> {
    if (this.maxTimestampMs < timestampMs) return undefined;
    const entry = this.timeIndex.lastEntryBefore(timestampMs);
    let fromOffset = this.baseOffset + (entry < 0 ? 0 : this.timeIndex.relativeOffsetAt(entry));
    for (;;) {
      const batches: RecordBatch[] = [];
      const { reachedEnd } = await this.read(fromOffset, readChunkBytes, batches, 0);
      for (const batch of batches) {
        const found = (batch as DecodedBatch).firstOffsetAtOrAfter(timestampMs);
        if (found !== undefined && found >= fromOffset) return found;
      }
      const last = batches.at(-1);
      if (reachedEnd || last === undefined) return undefined;
      fromOffset = last.lastOffset + 1;
    }
  }

  /** Removes the segment's files; its descriptor closes once no read is using it. */
  delete(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    for (const file of [this.logPath, this.indexPath, this.timeIndexPath]) fs.rmSync(file, { force: true });
    this.#closeIfUnused();
  }

  /**
   * Compaction replaced the segment's files (compaction-swap.ts): like delete, without
   * touching files that now belong to the new segment. A read under way keeps its
   * descriptor, so it finishes on the old file's bytes or stops.
   */
  markReplacedLocked(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    this.#closeIfUnused();
  }

  closeLocked(): void {
    if (this.#closed || this.#deleted) return;
    this.persistIndexesLocked();
    this.#closed = true;
    this.#closeIfUnused();
  }

  /** The descriptor for one read or fsync, opened if needed; undefined once gone. */
  #acquire(): number | undefined {
    if (this.#deleted || this.#closed) return undefined;
    this.#fd ??= fs.openSync(this.logPath, 'r');
    this.#users++;
    return this.#fd;
  }

  #release(): void {
    assert(this.#users > 0, 'release after acquire');
    this.#users--;
    this.#closeIfUnused();
  }

  #closeIfUnused(): void {
    if (this.#users > 0 || this.#fd === undefined) return;
    if (!this.#sealed && !this.#closed && !this.#deleted) return;
    fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** The log file descriptor, for recovery in segment-recovery.ts. */
  get fdForRecovery(): number {
    assert(this.#fd !== undefined, 'recovery runs on an open segment');
    return this.#fd;
  }

  /** After recovery rebuilt entries, the index files are rewritten from the kept prefix. */
  markIndexFilesStale(): void {
    this.#indexFilesStale = true;
  }
}
