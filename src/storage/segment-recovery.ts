// Recovery of one segment when a log opens (DESIGN.md §3).
//
// The indexes are loaded as far as they are valid and agree with each other; the segment is
// then scanned from the last kept index entry to the end of the file, checking every batch's
// length, CRC and offset and re-adding the index entries that were missing.
//
// What a bad batch means depends on where it is and what follows it:
// - in a sealed segment (not the last), nothing may be wrong: it is corruption;
// - in the last segment, a bad batch followed by nothing valid is a torn write from a crash:
//   the batch was never confirmed (confirmation waits for the fsync, which covers whole
//   writes), so the file is truncated there;
// - a batch that starts past where the previous one ended is corruption too, unless it is
//   flagged `compacted`: compaction (compaction.ts) leaves such gaps on purpose;
// - a bad batch followed by a valid one is corruption in the middle (a flipped byte, a lost
//   sector), never a torn tail: truncating there would drop confirmed batches silently, so it
//   is reported as CorruptLogError with the file and position and the log does not open.

import fs from 'node:fs';
import { CorruptLogError } from '../common/errors.js';
import type { LogSegment } from './log-segment.js';
import { offsetIndexEntryBytes } from './offset-index.js';
import type { BatchProblem } from './record-batch.js';
import {
  batchHeaderBytes,
  batchMagic,
  checkBatch,
  followsGap,
  peekBaseOffset,
  peekBatchLength,
  peekFirstTimestampMs,
  peekMaxTimestampMs,
  peekNextOffset,
} from './record-batch.js';
import { noTimestampMs } from './time-index.js';

const scanChunkBytes = 1024 * 1024;

function readFileIfExists(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}

/** Sequential reads of one file through a window that always holds a whole batch. */
class FileWindow {
  readonly #fd: number;
  readonly fileBytes: number;
  #buffer = Buffer.alloc(0);
  #start = 0;

  constructor(fd: number, fileBytes: number) {
    this.#fd = fd;
    this.fileBytes = fileBytes;
  }

  /** A view starting at `position` holding at least `length` bytes (or up to the file end). */
  view(position: number, length: number): Buffer {
    const wantEnd = Math.min(this.fileBytes, position + length);
    if (position < this.#start || wantEnd > this.#start + this.#buffer.length) {
      const size = Math.min(this.fileBytes - position, Math.max(scanChunkBytes, length));
      this.#buffer = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const bytesRead = fs.readSync(this.#fd, this.#buffer, filled, size - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      this.#buffer = this.#buffer.subarray(0, filled);
      this.#start = position;
    }
    return this.#buffer.subarray(position - this.#start);
  }

  /** Checks the batch at `position`; the view it returns holds the batch when it is valid. */
  check(position: number): { problem: BatchProblem | undefined; view: Buffer } {
    let view = this.view(position, batchHeaderBytes);
    const length = peekBatchLength(view, 0);
    if (length !== undefined && length > view.length) view = this.view(position, length);
    return { problem: checkBatch(view, 0), view };
  }
}

/** Whether some valid batch starts after `position` in the file. */
function validBatchAfter(window: FileWindow, position: number): boolean {
  const magic = Buffer.allocUnsafe(4);
  magic.writeUInt32BE(batchMagic, 0);
  let searchFrom = position + 1;
  while (searchFrom + batchHeaderBytes <= window.fileBytes) {
    const view = window.view(searchFrom, scanChunkBytes);
    const found = view.indexOf(magic);
    if (found < 0) {
      // Keep the last three bytes: the magic may straddle two windows.
      searchFrom += Math.max(1, view.length - 3);
      continue;
    }
    if (window.check(searchFrom + found).problem === undefined) return true;
    searchFrom += found + 1;
  }
  return false;
}

/**
 * Recovers `segment` in place: its indexes, nextOffset, sizeBytes, maxTimestampMs and
 * createdAtMs. `isLast` allows truncating a torn tail; otherwise every byte must be valid.
 */
export function recoverSegment(segment: LogSegment, isLast: boolean): { truncatedBytes: number } {
  const fd = segment.fdForRecovery;
  const fileBytes = fs.fstatSync(fd).size;
  const window = new FileWindow(fd, fileBytes);

  const indexBytes = readFileIfExists(segment.indexPath);
  const offsetEntries = segment.offsetIndex.load(indexBytes, fileBytes);
  const timeEntries = segment.timeIndex.load(readFileIfExists(segment.timeIndexPath));
  let kept = Math.min(offsetEntries, timeEntries);
  for (let entry = 0; entry < kept; entry++) {
    if (segment.offsetIndex.relativeOffsetAt(entry) !== segment.timeIndex.relativeOffsetAt(entry)) {
      kept = entry;
      break;
    }
  }
  // The first entry names the first batch's offset, which is the segment's base unless
  // compaction removed the records before it (and flagged that batch): an index that
  // disagrees with the batch at position 0 is rebuilt.
  if (kept > 0) {
    const first = window.view(0, batchHeaderBytes);
    const firstRelativeOffset = segment.offsetIndex.relativeOffsetAt(0);
    if (
      first.length < batchHeaderBytes ||
      peekBaseOffset(first, 0) !== segment.baseOffset + firstRelativeOffset ||
      (firstRelativeOffset !== 0 && !followsGap(first, 0))
    ) {
      kept = 0;
    }
  }
  // Resume at the last kept entry, which the scan checks and indexes again.
  let position = 0;
  let expectedOffset = segment.baseOffset;
  let maxTimestampMs = -Infinity;
  if (kept > 0) {
    const last = kept - 1;
    position = segment.offsetIndex.positionAt(last);
    expectedOffset = segment.baseOffset + segment.offsetIndex.relativeOffsetAt(last);
    const before = segment.timeIndex.maxTimestampBeforeMsAt(last);
    maxTimestampMs = before === noTimestampMs ? -Infinity : before;
    kept = last;
  }
  segment.offsetIndex.truncate(kept);
  segment.timeIndex.truncate(kept);
  if (kept * offsetIndexEntryBytes !== indexBytes.length || kept !== timeEntries)
    segment.markIndexFilesStale();
  segment.maxTimestampMs = maxTimestampMs;
  segment.nextOffset = expectedOffset;
  segment.sizeBytes = position;

  let truncatedBytes = 0;
  while (position < fileBytes) {
    const { problem, view } = window.check(position);
    let reason: string | undefined = problem;
    if (
      reason === undefined &&
      peekBaseOffset(view, 0) !== expectedOffset &&
      !(peekBaseOffset(view, 0) > expectedOffset && followsGap(view, 0))
    ) {
      reason = `batch has baseOffset ${peekBaseOffset(view, 0)} where ${expectedOffset} belongs`;
    }
    if (reason !== undefined) {
      if (!isLast || validBatchAfter(window, position))
        throw new CorruptLogError(segment.logPath, position, reason);
      truncatedBytes = fileBytes - position;
      fs.ftruncateSync(fd, position);
      break;
    }
    segment.restoreBatchLocked(
      view.subarray(0, view.readUInt32BE(4)),
      peekBaseOffset(view, 0),
      peekNextOffset(view, 0),
      peekMaxTimestampMs(view, 0),
      position,
    );
    expectedOffset = segment.nextOffset;
    position = segment.sizeBytes;
  }
  segment.readableBytes = segment.sizeBytes;
  if (!segment.isEmpty) {
    const first = window.view(0, batchHeaderBytes);
    segment.createdAtMs = peekFirstTimestampMs(first, 0);
    segment.compacted = followsGap(first, 0);
  }
  segment.persistIndexesLocked();
  return { truncatedBytes };
}
