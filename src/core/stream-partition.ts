// One partition of a stream: its Log, the append queue in front of it, and a tail cache.
//
// Appends are group-committed: publishes queue records, and one `Log.append` per turn of
// the event loop writes everything queued as one batch. One append is in flight at a time
// (the Log has one writer), so offsets are assigned in publish order; the partition learns
// them when the append resolves and hands the stored messages to its stream.
//
// The tail cache keeps the most recently appended messages, decoded, so consumers that keep
// up read them without touching the log. It is bounded by count and bytes.

import { assert } from '../common/assert.js';
import { Offset } from '../common/branded.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { Log, RecordInput } from '../storage/log.js';
import type { Message } from './api.js';
import type { ProducerStamp } from './api.js';
import { decodeMessage, encodeMessage } from './message-codec.js';

function continuesRun(
  first: ProducerStamp | undefined,
  next: ProducerStamp | undefined,
  count: number,
): boolean {
  if (first === undefined || next === undefined) return first === next;
  return next.id === first.id && next.epoch === first.epoch && next.sequence === first.sequence + count;
}

/** A message as the log holds it. */
export interface StoredMessage {
  readonly offset: number;
  readonly message: Message;
  readonly sizeBytes: number;
}

interface PendingAppend {
  readonly message: Message;
  readonly record: RecordInput;
  readonly confirm: ((error: Error | undefined, offset: number) => void) | undefined;
  /** core2: an idempotent producer's stamp; its run of sequences becomes one batch. */
  readonly producer: ProducerStamp | undefined;
}

/** What a decoded message costs beyond its encoded bytes, roughly (objects, headers, slices). */
const cacheOverheadBytes = 200;

export type AppendedListener = (partition: number, stored: readonly StoredMessage[]) => void;

export class StreamPartition {
  readonly index: number;
  readonly log: Log;
  /** The first offset consumers may read: retention and acked-range deletion move it up. */
  firstOffset: number;
  /** One past the last offset appended and handed to the stream. */
  nextOffset: number;
  readonly #onAppended: AppendedListener;
  #queue: PendingAppend[] = [];
  #queueBytes = 0;
  #appending = false;
  #flushScheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #cache: StoredMessage[] = [];
  #cacheHead = 0;
  #cacheBytes = 0;
  /** The messages decoded by the last log read, contiguous by offset (see read()). */
  #readRun: StoredMessage[] = [];

  constructor(index: number, log: Log, onAppended: AppendedListener) {
    this.index = index;
    this.log = log;
    this.firstOffset = log.startOffset;
    this.nextOffset = log.nextOffset;
    this.#onAppended = onAppended;
  }

  /** Messages queued but not yet in the log. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  get queuedBytes(): number {
    return this.#queueBytes;
  }

  /** Messages stored and readable (offsets spanned: compaction's gaps count too). */
  get messageCount(): number {
    return this.nextOffset - this.firstOffset;
  }

  /**
   * Throws WEIR_OVERLOADED when the append queue is full, as `enqueue` would. Stamped
   * publishes check first, so a refused one never holds its producer sequence.
   */
  checkQueueRoom(): void {
    if (this.#queue.length >= Limits.appendQueueMessagesMax) {
      throw new WeirError(ErrorCode.Overloaded, 'append queue is full; publish more slowly');
    }
  }

  enqueue(
    message: Message,
    confirm?: (error: Error | undefined, offset: number) => void,
    producer?: ProducerStamp,
  ): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'stream is closed');
    if (this.#queue.length >= Limits.appendQueueMessagesMax) {
      throw new WeirError(ErrorCode.Overloaded, 'append queue is full; publish more slowly');
    }
    const value = encodeMessage(message);
    const record: RecordInput = {
      timestampMs: message.timestampMs,
      key: message.key === undefined ? undefined : Buffer.from(message.key, 'utf8'),
      value,
    };
    this.#queue.push({ message, record, confirm, producer });
    this.#queueBytes += value.length;
    this.#scheduleFlush();
  }

  /** Resolves once everything queued so far is in the log. */
  whenIdle(): Promise<void> {
    if (!this.#appending && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.whenIdle();
    this.#closed = true;
    await this.log.close();
  }

  /**
   * Messages from `fromOffset` on, at most `maxCount` of them, and only offsets `wanted`
   * accepts when given (the others are not decoded). Returns `scannedTo`, one past the last
   * offset looked at, so a caller knows where to continue even when nothing was wanted.
   */
  async read(
    fromOffset: number,
    maxCount: number,
    wanted?: (offset: number) => boolean,
    readBytesMax: number = Limits.consumerReadBytesMax,
  ): Promise<{ messages: StoredMessage[]; scannedTo: number }> {
    // The log may already have dropped segments below firstOffset's next move (retention runs async).
    const from = Math.max(fromOffset, this.firstOffset, this.log.startOffset);
    if (from >= this.nextOffset || maxCount <= 0) return { messages: [], scannedTo: from };
    const cached =
      this.#fromRun(this.#cache, this.#cacheHead, from, maxCount, wanted) ??
      this.#fromRun(this.#readRun, 0, from, maxCount, wanted);
    if (cached !== undefined) return cached;
    const batches = await this.log.read(Offset(from), readBytesMax);
    // Everything from `from` to the end of the batches read is decoded once and kept as the
    // read run, so the next sequential read (of this consumer or another) continues from
    // memory instead of reading and CRC-checking the same batches again. It holds what one
    // read returned, up to readBytesMax of records past what the caller asked for.
    // A filtered read (redeliveries, filter scans) decodes only what it wants, as before.
    const run: StoredMessage[] = [];
    let runBytes = 0;
    const messages: StoredMessage[] = [];
    let scannedTo = from;
    for (const batch of batches) {
      for (const record of batch.records()) {
        if (record.offset < from) continue;
        if (record.offset >= this.nextOffset) break;
        const full = messages.length >= maxCount;
        if (full && (wanted !== undefined || runBytes >= readBytesMax)) break;
        runBytes += record.value.length;
        if (!full) scannedTo = record.offset + 1;
        if (!full && wanted !== undefined && !wanted(record.offset)) continue;
        const stored: StoredMessage = {
          offset: record.offset,
          message: decodeMessage(record.value),
          sizeBytes: record.value.length,
        };
        if (wanted === undefined) run.push(stored);
        if (!full) messages.push(stored);
      }
    }
    if (wanted === undefined) this.#readRun = run;
    return { messages, scannedTo };
  }

  /**
   * Compaction rewrote the log below `offset`: cached messages there may be gone from it, so
   * reads from there go to the log and see what compaction kept.
   */
  forgetCachedBelow(offset: number): void {
    while (
      this.#cacheHead < this.#cache.length &&
      (this.#cache[this.#cacheHead] as StoredMessage).offset < offset
    ) {
      this.#cacheBytes -= (this.#cache[this.#cacheHead] as StoredMessage).sizeBytes + cacheOverheadBytes;
      this.#cacheHead += 1;
    }
    if (this.#readRun.length > 0 && (this.#readRun[0] as StoredMessage).offset < offset) this.#readRun = [];
  }

  /** The one message at `offset`, or undefined when it is gone. */
  async readOne(offset: number): Promise<StoredMessage | undefined> {
    const { messages } = await this.read(offset, 1, (candidate) => candidate === offset, 1);
    const first = messages[0];
    return first?.offset === offset ? first : undefined;
  }

  /**
   * Serves a read from a run of stored messages in offset order (`run[head]` on), if it
   * holds `from`. The tail cache is contiguous; a read run of a compacted log has gaps, which
   * the log does not hold either, so they are skipped.
   */
  #fromRun(
    run: readonly StoredMessage[],
    head: number,
    from: number,
    maxCount: number,
    wanted: ((offset: number) => boolean) | undefined,
  ): { messages: StoredMessage[]; scannedTo: number } | undefined {
    const first = run[head];
    if (first === undefined || from < first.offset) return undefined;
    let start = head + (from - first.offset);
    if (start >= run.length || (run[start] as StoredMessage).offset !== from) {
      // Not contiguous: the first message at or after `from`.
      let low = head;
      let high = run.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((run[middle] as StoredMessage).offset < from) low = middle + 1;
        else high = middle;
      }
      start = low;
    }
    if (start >= run.length) return undefined;
    if (wanted === undefined) {
      const messages = run.slice(start, Math.min(run.length, start + maxCount));
      return { messages, scannedTo: (messages[messages.length - 1] as StoredMessage).offset + 1 };
    }
    const messages: StoredMessage[] = [];
    let scannedTo = from;
    for (let index = start; index < run.length && messages.length < maxCount; index++) {
      const stored = run[index] as StoredMessage;
      scannedTo = stored.offset + 1;
      if (wanted(stored.offset)) messages.push(stored);
    }
    return { messages, scannedTo };
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#appending) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#appending || this.#queue.length === 0) return;
    this.#appending = true;
    const batch = this.#takeBatch();
    try {
      const stamp = batch[0]?.producer;
      const result = await this.log.append({
        records: batch.map((pending) => pending.record),
        ...(stamp === undefined
          ? {}
          : { producerId: stamp.id, producerEpoch: stamp.epoch, baseSequence: stamp.sequence }),
      });
      assert(
        result.lastOffset - result.baseOffset + 1 === batch.length,
        'append assigned one offset per record',
      );
      assert(result.baseOffset === this.nextOffset, 'appends are contiguous');
      const stored: StoredMessage[] = batch.map((pending, index) => ({
        offset: result.baseOffset + index,
        message: pending.message,
        sizeBytes: pending.record.value.length,
      }));
      this.nextOffset = result.lastOffset + 1;
      this.#remember(stored);
      for (const [index, pending] of batch.entries()) pending.confirm?.(undefined, result.baseOffset + index);
      this.#onAppended(this.index, stored);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const pending of batch) pending.confirm?.(failure, -1);
    } finally {
      this.#appending = false;
      if (this.#queue.length > 0) this.#scheduleFlush();
      else for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  #takeBatch(): PendingAppend[] {
    let bytes = 0;
    let count = 0;
    const first = this.#queue[0]?.producer;
    for (const pending of this.#queue) {
      const size = pending.record.value.length + 64;
      if (count > 0 && (count >= Limits.batchRecordsMax || bytes + size > Limits.batchBytesMax / 2)) break;
      // core2: a batch is plain messages, or one producer's run of consecutive sequences
      // (the batch header carries the producer fields: dedup/producer-state.ts).
      if (count > 0 && !continuesRun(first, pending.producer, count)) break;
      bytes += size;
      count += 1;
    }
    const batch = this.#queue.length === count ? this.#queue : this.#queue.slice(0, count);
    this.#queue = this.#queue.length === count ? [] : this.#queue.slice(count);
    for (const pending of batch) this.#queueBytes -= pending.record.value.length;
    return batch;
  }

  #remember(stored: readonly StoredMessage[]): void {
    for (const entry of stored) {
      this.#cache.push(entry);
      this.#cacheBytes += entry.sizeBytes + cacheOverheadBytes;
    }
    while (
      this.#cache.length - this.#cacheHead > Limits.tailCacheMessagesMax ||
      this.#cacheBytes > Limits.tailCacheBytesMax
    ) {
      const evicted = this.#cache[this.#cacheHead];
      assert(evicted !== undefined, 'cache is not empty');
      this.#cacheBytes -= evicted.sizeBytes + cacheOverheadBytes;
      this.#cacheHead += 1;
    }
    if (this.#cacheHead > 4096 && this.#cacheHead * 2 > this.#cache.length) {
      this.#cache.splice(0, this.#cacheHead);
      this.#cacheHead = 0;
    }
  }
}
