// One partition of a stream: its Log, the append queue in front of it, and a tail cache.
//
// Appends are group-committed: publishes queue records, and one `Log.append` per turn of
// the event loop writes everything queued as one batch. Up to partitionAppendsInFlightMax
// appends are in flight: under fsync `always` the next batch is written while the previous
// one's fsync runs, and joins the fsync after it. The Log assigns offsets synchronously, in
// call order, and resolves appends in that order, so offsets follow publish order; the
// partition learns them when an append resolves and hands the stored messages to its stream.
//
// The tail cache keeps the most recently appended messages, decoded, so consumers that keep
// up read them without touching the log. It is bounded by count and bytes, and kept only
// while some reader is near enough to the tail to use it.

import { AssertionError, assert } from '../common/assert.js';
import { Offset } from '../common/branded.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { Log, RecordBatch, RecordInput, RecordValue } from '../storage/log.js';
import { timestampDeltaMsMax } from '../storage/record-batch.js';
import type { Message } from './api.js';
import type { ProducerStamp } from './api.js';
import { decodeMessage, encodeMessageInto, measureMessage } from './message-codec.js';

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

/** Runs once a message is stored (or failed); given the partition so callers need no wrapper. */
type Confirm = (error: Error | undefined, partition: number, offset: number) => void;

/**
 * One published message from the append queue on: the log record it is written as (its
 * value encodes itself straight into the batch: RecordValue), then, once appended, the
 * StoredMessage the tail cache and consumers hold. One object per message on that whole way.
 */
class AppendEntry implements StoredMessage, RecordInput, RecordValue {
  /** Set when the append that holds it resolves; -1 until then. */
  offset = -1;
  readonly message: Message;
  /** The encoded value's bytes. */
  readonly sizeBytes: number;
  readonly timestampMs: number;
  readonly key: Buffer | undefined;
  /** core2: an idempotent producer's stamp; its run of sequences becomes one batch. */
  readonly producer: ProducerStamp | undefined;
  /** Dropped once called, so the tail cache does not keep publishers' callbacks alive. */
  confirm: Confirm | undefined;

  constructor(message: Message, confirm: Confirm | undefined, producer: ProducerStamp | undefined) {
    this.message = message;
    this.sizeBytes = measureMessage(message);
    this.timestampMs = message.timestampMs;
    this.key = message.key === undefined ? undefined : Buffer.from(message.key, 'utf8');
    this.producer = producer;
    this.confirm = confirm;
  }

  get value(): RecordValue {
    return this;
  }

  get byteLength(): number {
    return this.sizeBytes;
  }

  writeTo(target: Buffer, position: number): number {
    return encodeMessageInto(this.message, target, position);
  }

  settle(error: Error | undefined, partition: number, offset: number): void {
    const confirm = this.confirm;
    if (confirm === undefined) return;
    this.confirm = undefined;
    confirm(error, partition, offset);
  }
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
  #queue: AppendEntry[] = [];
  #queueBytes = 0;
  #appendsInFlight = 0;
  #flushScheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #cache: StoredMessage[] = [];
  #cacheHead = 0;
  #cacheBytes = 0;
  /** The batches of the last unfiltered log read (see read()). */
  #readBatches: readonly RecordBatch[] = [];
  /** The furthest offset a read has started from (the log's end at first): see #remember. */
  #readFrontier: number;

  constructor(index: number, log: Log, onAppended: AppendedListener) {
    this.index = index;
    this.log = log;
    this.firstOffset = log.startOffset;
    this.nextOffset = log.nextOffset;
    this.#readFrontier = log.nextOffset;
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

  enqueue(message: Message, confirm?: Confirm, producer?: ProducerStamp): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'stream is closed');
    if (this.#queue.length >= Limits.appendQueueMessagesMax) {
      throw new WeirError(ErrorCode.Overloaded, 'append queue is full; publish more slowly');
    }
    const entry = new AppendEntry(message, confirm, producer);
    this.#queue.push(entry);
    this.#queueBytes += entry.sizeBytes;
    if (this.#queue.length >= Limits.partitionFlushMessages) void this.#flush();
    else this.#scheduleFlush();
  }

  /** Resolves once everything queued so far is in the log. */
  whenIdle(): Promise<void> {
    if (this.#appendsInFlight === 0 && this.#queue.length === 0) return Promise.resolve();
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
    if (from > this.#readFrontier) this.#readFrontier = from;
    if (from >= this.nextOffset || maxCount <= 0) return { messages: [], scannedTo: from };
    const cached = this.#fromRun(this.#cache, this.#cacheHead, from, maxCount, wanted);
    if (cached !== undefined) return cached;
    // The batches of the last unfiltered log read stay in memory, so the next sequential
    // read (of this consumer or another) continues from them instead of reading and
    // CRC-checking the same bytes again. They are decoded only as far as each read asks:
    // decoded messages live from read to delivery, not for the whole run.
    let batches = this.#readBatchesFrom(from);
    if (batches === undefined) {
      batches = await this.log.read(Offset(from), readBytesMax);
      if (wanted === undefined) this.#readBatches = batches;
    }
    const messages: StoredMessage[] = [];
    let scannedTo = from;
    const nextOffset = this.nextOffset;
    const visit = (offset: number, bytes: Buffer, valueStart: number, valueEnd: number): boolean => {
      if (offset < from) return true;
      if (offset >= nextOffset || messages.length >= maxCount) return false;
      scannedTo = offset + 1;
      if (wanted !== undefined && !wanted(offset)) return true;
      messages.push({
        offset,
        message: decodeMessage(bytes, valueStart, valueEnd),
        sizeBytes: valueEnd - valueStart,
      });
      return true;
    };
    for (const batch of batches) {
      if (messages.length >= maxCount) break;
      batch.visitRecords(visit);
    }
    return { messages, scannedTo };
  }

  /** The kept batches from the one holding `from` on, or undefined when they do not hold it. */
  #readBatchesFrom(from: number): readonly RecordBatch[] | undefined {
    const batches = this.#readBatches;
    const last = batches[batches.length - 1];
    if (last === undefined || from > last.lastOffset || from < (batches[0] as RecordBatch).baseOffset) {
      return undefined;
    }
    let index = 0;
    while ((batches[index] as RecordBatch).lastOffset < from) index++;
    return index === 0 ? batches : batches.slice(index);
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
    const first = this.#readBatches[0];
    if (first !== undefined && first.baseOffset < offset) this.#readBatches = [];
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
    if (this.#flushScheduled || this.#appendsInFlight >= Limits.partitionAppendsInFlightMax) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#appendsInFlight >= Limits.partitionAppendsInFlightMax || this.#queue.length === 0) return;
    this.#appendsInFlight += 1;
    const batch = this.#takeBatch();
    try {
      const stamp = batch[0]?.producer;
      const result = await this.log.append({
        records: batch,
        ...(stamp === undefined
          ? {}
          : { producerId: stamp.id, producerEpoch: stamp.epoch, baseSequence: stamp.sequence }),
      });
      assert(
        result.lastOffset - result.baseOffset + 1 === batch.length,
        'append assigned one offset per record',
      );
      assert(result.baseOffset === this.nextOffset, 'appends are contiguous');
      let offset = result.baseOffset;
      for (const entry of batch) entry.offset = offset++;
      this.nextOffset = result.lastOffset + 1;
      this.#remember(batch);
      for (const entry of batch) entry.settle(undefined, this.index, entry.offset);
      this.#onAppended(this.index, batch);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of batch) entry.settle(failure, this.index, -1);
      // A broken invariant is a bug, not a publish error: after telling the publishers, it
      // goes on to end the process rather than let the partition carry on (STYLE.md).
      if (error instanceof AssertionError) throw error;
    } finally {
      this.#appendsInFlight -= 1;
      if (this.#queue.length > 0) this.#scheduleFlush();
      else if (this.#appendsInFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  #takeBatch(): AppendEntry[] {
    let bytes = 0;
    let count = 0;
    const first = this.#queue[0]?.producer;
    const firstTimestampMs = this.#queue[0]?.timestampMs ?? 0;
    for (const pending of this.#queue) {
      const size = pending.sizeBytes + 64;
      if (count > 0 && (count >= Limits.batchRecordsMax || bytes + size > Limits.batchBytesMax / 2)) break;
      // core2: a batch is plain messages, or one producer's run of consecutive sequences
      // (the batch header carries the producer fields: dedup/producer-state.ts).
      if (count > 0 && !continuesRun(first, pending.producer, count)) break;
      // A delayed message appended when due keeps its publish time, maybe months before the
      // messages queued with it: the batch format holds timestamps near its first one only.
      if (count > 0 && Math.abs(pending.timestampMs - firstTimestampMs) > timestampDeltaMsMax) break;
      bytes += size;
      count += 1;
    }
    const batch = this.#queue.length === count ? this.#queue : this.#queue.slice(0, count);
    this.#queue = this.#queue.length === count ? [] : this.#queue.slice(count);
    for (const pending of batch) this.#queueBytes -= pending.sizeBytes;
    return batch;
  }

  #remember(stored: readonly StoredMessage[]): void {
    const first = stored[0];
    if (first === undefined) return;
    // The cache only serves a reader that reaches these messages before they are evicted.
    // While every reader is further behind than the cache holds (a backlog), they read the
    // log anyway: caching would only keep, and age into the old GC generation, messages
    // nobody reads from it. It starts again, empty, once a read comes near the tail.
    if (first.offset - this.#readFrontier > Limits.tailCacheMessagesMax) {
      this.#cache.length = 0;
      this.#cacheHead = 0;
      this.#cacheBytes = 0;
      return;
    }
    for (const entry of stored) {
      this.#cache.push(entry);
      this.#cacheBytes += entry.sizeBytes + cacheOverheadBytes;
    }
    // Messages the furthest reader passed long ago are evicted too: a tailing consumer has
    // them already, and kept for the cache's whole length (1.6 s at 10,000 msgs/s) each one
    // would be copied by two scavenges and promoted, which is what set the pause of every
    // young-generation GC (and so the latency tail) while consumers keep up.
    const behindReadBefore = this.#readFrontier - Limits.tailCacheBehindReadMessagesMax;
    for (;;) {
      const oldest = this.#cache[this.#cacheHead];
      if (oldest === undefined) break;
      if (
        this.#cache.length - this.#cacheHead <= Limits.tailCacheMessagesMax &&
        this.#cacheBytes <= Limits.tailCacheBytesMax &&
        oldest.offset >= behindReadBefore
      ) {
        break;
      }
      this.#cacheBytes -= oldest.sizeBytes + cacheOverheadBytes;
      this.#cacheHead += 1;
    }
    // Evicted slots still hold their messages until the array is compacted.
    if (this.#cacheHead > 1024 && this.#cacheHead * 2 > this.#cache.length) {
      this.#cache.splice(0, this.#cacheHead);
      this.#cacheHead = 0;
    }
  }
}
