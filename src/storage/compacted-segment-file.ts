// One new segment being written by compaction, as `.cleaned` files (compaction-swap.ts).
// Its offset and time indexes are built as the batches go in, by the same rule an appending
// LogSegment follows (the first batch, then one every indexIntervalBytes), so that after the
// swap the segment opens like any other and recovery finds its indexes valid.
//
// Batches are gathered and written in chunks, off the event loop. The segment is named by
// the base offset of the first input segment it replaces; its first batch may start later.

import fs from 'node:fs';
import { assert } from '../common/assert.js';
import { Limits } from '../common/limits.js';
import type { CompactedOutput } from './compaction.js';
import { cleanedPath, removeCleaned } from './compaction-swap.js';
import { storageFailed } from './log-segment.js';
import { OffsetIndex } from './offset-index.js';
import type { DecodedBatch } from './record-batch.js';
import { TimeIndex, noTimestampMs } from './time-index.js';

export class CompactedSegmentFile implements CompactedOutput {
  readonly #directory: string;
  readonly #indexIntervalBytes: number;
  readonly #offsetIndex = new OffsetIndex();
  readonly #timeIndex = new TimeIndex();
  #handle: fs.promises.FileHandle | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #writtenBytes = 0;
  #maxTimestampMs = -Infinity;
  #nextOffset: number;
  readonly baseOffset: number;
  sizeBytes = 0;

  constructor(directory: string, baseOffset: number, indexIntervalBytes: number) {
    this.#directory = directory;
    this.baseOffset = baseOffset;
    this.#nextOffset = baseOffset;
    this.#indexIntervalBytes = indexIntervalBytes;
  }

  async #open(): Promise<fs.promises.FileHandle> {
    try {
      this.#handle ??= await fs.promises.open(cleanedPath(this.#directory, this.baseOffset, 'log'), 'w');
      return this.#handle;
    } catch (error) {
      throw storageFailed(`creating a compacted segment in ${this.#directory}`, error);
    }
  }

  async append(batch: DecodedBatch): Promise<void> {
    await this.#open();
    assert(batch.baseOffset >= this.#nextOffset, 'compacted batches come in offset order');
    const position = this.sizeBytes;
    assert(position + batch.bytes.length <= 0xffff_ffff, 'segment positions fit 32 bits');
    if (
      this.#offsetIndex.count === 0 ||
      position - this.#offsetIndex.lastPosition() >= this.#indexIntervalBytes
    ) {
      const relativeOffset = batch.baseOffset - this.baseOffset;
      this.#offsetIndex.append(relativeOffset, position);
      this.#timeIndex.append(
        this.#maxTimestampMs === -Infinity ? noTimestampMs : this.#maxTimestampMs,
        relativeOffset,
      );
    }
    this.#pending.push(batch.bytes);
    this.#pendingBytes += batch.bytes.length;
    this.sizeBytes += batch.bytes.length;
    this.#nextOffset = batch.lastOffset + 1;
    if (batch.maxTimestampMs > this.#maxTimestampMs) this.#maxTimestampMs = batch.maxTimestampMs;
    if (this.#pendingBytes >= Limits.compactionReadBytes) await this.#writePending();
  }

  /** Writes what is left, the index files, and fsyncs all three. */
  async finish(): Promise<void> {
    const baseOffset = this.baseOffset;
    const handle = await this.#open();
    await this.#writePending();
    try {
      await handle.datasync();
      await handle.close();
      this.#handle = undefined;
      await writeSynced(
        cleanedPath(this.#directory, baseOffset, 'timeindex'),
        this.#timeIndex.takePending().bytes,
      );
      await writeSynced(
        cleanedPath(this.#directory, baseOffset, 'index'),
        this.#offsetIndex.takePending().bytes,
      );
    } catch (error) {
      throw storageFailed(`writing the compacted segment ${baseOffset} in ${this.#directory}`, error);
    }
  }

  /** Closes and removes the files of an output that will not be swapped in. */
  async abandon(): Promise<void> {
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
    removeCleaned(this.#directory, this.baseOffset);
  }

  async #writePending(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const handle = this.#handle;
    assert(handle !== undefined, 'an output with batches has its file open');
    const chunk = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(
          chunk,
          written,
          chunk.length - written,
          this.#writtenBytes + written,
        );
        written += bytesWritten;
      }
    } catch (error) {
      throw storageFailed(`writing a compacted segment in ${this.#directory}`, error);
    }
    this.#writtenBytes += chunk.length;
  }
}

async function writeSynced(file: string, bytes: Buffer): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
