// The delay index of a stream: delayed messages wait here, on disk, until they are due, and
// are then released into their stream partition (appended to its log), where consumers see
// them like any other message. Nothing scans the stream log for delayed messages, and a
// consumer never holds one back (DESIGN.md §4: timer wheels, not scanning).
//
// Layout: a hierarchical timing wheel of time buckets (delay-levels.ts), each bucket its own
// Log (delay-store.ts) of schedule and done records (delay-record.ts). Only level-0 buckets
// about to fall due are loaded into a min-heap in memory, so millions of pending messages
// cost disk, not memory. The pending count is a counter.
//
// Durability and crashes:
// - `schedule` resolves once the schedule record is durable under the bucket log's fsync
//   policy; a scheduled message survives kill -9 from then on.
// - Release is at-least-once: entries are handed to `release` in due order; once it
//   resolves (the messages are in the stream's log), done records are written. A crash in
//   between releases those entries again after restart (the broker then relies on the
//   stream's message-id dedup window, when configured, to drop the copy).
// - A cascade copies a coarse bucket's entries into finer buckets, then deletes it; a crash
//   in between leaves copies that are told apart by id when their level-0 bucket loads.
// - Opening reads every bucket once to count entries and find the next id (sequential I/O,
//   about 150 MB per million 100-byte messages), then loads and cascades whatever fell due
//   while the broker was down.
//
// Single-threaded: bucket state changes happen on the event loop; appends are queued per
// bucket (delay-bucket.ts). Up to four releases overlap (each waits for its stream append's
// fsync); they hand messages to the partitions synchronously, in due order.

import { assert } from '../../common/assert.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';
import { DelayBucket } from './delay-bucket.js';
import {
  bucketName,
  bucketStartMs,
  cascadeAtMs,
  hotAtMs,
  levelCount,
  levelFor,
  parseBucketName,
} from './delay-levels.js';
import { type DelayEntry, DelayRecordKind, encodeDone, encodeSchedule } from './delay-record.js';
import type { DelayStore } from './delay-store.js';
import { MinHeap } from './min-heap.js';

export type { DelayEntry } from './delay-record.js';

export interface DelayIndexOptions {
  readonly store: DelayStore;
  readonly clock: Clock;
  /**
   * Appends due entries to their stream, in due order; the index marks them done once this
   * resolves. When it rejects, the entries are offered again after `retryMs`.
   */
  readonly release: (entries: readonly DelayEntry[]) => Promise<void>;
  readonly onError?: (error: unknown) => void;
  /** Default 1000. */
  readonly retryMs?: number;
}

interface HotEntry {
  readonly entry: DelayEntry;
  readonly bucket: DelayBucket;
}

/** Releases in flight at once: partition appends keep their order, so they may overlap. */
const releasesInFlightMax = 4;

function earlier(left: HotEntry, right: HotEntry): boolean {
  return (
    left.entry.dueMs < right.entry.dueMs ||
    (left.entry.dueMs === right.entry.dueMs && left.entry.id < right.entry.id)
  );
}

export class DelayIndex {
  readonly #store: DelayStore;
  readonly #clock: Clock;
  readonly #release: DelayIndexOptions['release'];
  readonly #onError: (error: unknown) => void;
  readonly #retryMs: number;
  readonly #buckets = new Map<string, DelayBucket>();
  readonly #heap = new MinHeap<HotEntry>(earlier);
  #nextId = 0;
  #fireTimer: TimerHandle | undefined;
  #fireAtMs = Infinity;
  /** After a failed release: no release before this time. */
  #notBeforeMs = 0;
  #maintenanceTimer: TimerHandle | undefined;
  #maintenanceAtMs = Infinity;
  /** Releases appending to the stream; a few may overlap so that one fsync does not hold up the next. */
  #releasesInFlight = 0;
  #work = new Set<Promise<unknown>>();
  #closed = false;
  #released = 0;

  private constructor(options: DelayIndexOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#release = options.release;
    this.#onError = options.onError ?? (() => {});
    this.#retryMs = options.retryMs ?? 1000;
  }

  /** Opens the index, counting what each bucket holds, and starts its timers. */
  static async open(options: DelayIndexOptions): Promise<DelayIndex> {
    const index = new DelayIndex(options);
    await index.#recover();
    index.#maintain();
    return index;
  }

  /**
   * Delayed messages scheduled and not yet released: a sum over the few hundred buckets at
   * most. After a crash during a cascade it may count a copy twice until the copy's second
   * comes near and the copies are told apart.
   */
  get pendingCount(): number {
    let count = 0;
    for (const bucket of this.#buckets.values()) count += bucket.liveCount;
    return count;
  }

  /** Entries held in memory (due within about two seconds). */
  get memoryEntries(): number {
    return this.#heap.size;
  }

  get bucketCount(): number {
    return this.#buckets.size;
  }

  /** Entries released so far by this instance. */
  get releasedCount(): number {
    return this.#released;
  }

  /**
   * Schedules an encoded message for `partition` at `dueMs`; resolves with its id once
   * durable. A due time in the past is released at once (but still through the index, so
   * the call has one behaviour). WEIR_INVALID_ARGUMENT beyond Limits.delayMsMax.
   */
  async schedule(dueMs: number, partition: number, value: Buffer): Promise<number> {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the delay index is closed');
    const nowMs = this.#clock.nowMs();
    if (!Number.isSafeInteger(dueMs) || dueMs - nowMs > Limits.delayMsMax) {
      throw new InvalidArgumentError(
        `a delay must end within ${Limits.delayMsMax} ms (100 years), got a due time of ${dueMs}`,
      );
    }
    assert(Number.isInteger(partition) && partition >= 0, 'partition is a non-negative integer');
    const entry: DelayEntry = { id: this.#nextId++, dueMs, partition, value };
    await this.#track(this.#insert(entry, levelCount - 1, nowMs));
    return entry.id;
  }

  /** Resolves once no load, cascade, insert or release is in flight (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#work.size > 0) {
      await Promise.allSettled([...this.#work]);
    }
  }

  /** True while a load, cascade, insert or release is in flight. */
  get busy(): boolean {
    return this.#work.size > 0;
  }

  /** Stops timers, waits for work in flight, and closes every bucket log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fireTimer?.cancel();
    this.#maintenanceTimer?.cancel();
    await this.whenIdle();
    for (const bucket of this.#buckets.values()) await bucket.close();
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    const untrack = (): void => {
      this.#work.delete(work);
    };
    work.then(untrack, untrack);
    return work;
  }

  async #recover(): Promise<void> {
    const names = await this.#store.list();
    for (const name of names) {
      const parsed = parseBucketName(name);
      if (parsed === undefined) continue;
      const bucket = new DelayBucket(this.#store, name, parsed.level, parsed.startMs, 'cold');
      const done = new Set<number>();
      const scheduled = new Set<number>();
      let schedules = 0;
      await bucket.readAll((record) => {
        if (record.kind === DelayRecordKind.done) {
          done.add(record.id);
        } else {
          schedules += 1;
          if (parsed.level === 0) scheduled.add(record.entry.id);
          if (record.entry.id >= this.#nextId) this.#nextId = record.entry.id + 1;
        }
      });
      let live = schedules;
      if (parsed.level === 0) {
        live = 0;
        for (const id of scheduled) if (!done.has(id)) live += 1;
      }
      bucket.liveCount = live;
      this.#buckets.set(name, bucket);
    }
  }

  /** The bucket for `entry` at the finest level that takes it, creating it if needed. */
  #bucketFor(entry: DelayEntry, maxLevel: number, nowMs: number): DelayBucket {
    let level = Math.min(levelFor(entry.dueMs, nowMs), maxLevel);
    // An overdue entry goes to the current second's bucket, never to a past one, which may
    // be being deleted (its directory renamed away under a log that would reopen it).
    const placeMs = Math.max(entry.dueMs, nowMs);
    for (;;) {
      const startMs = bucketStartMs(level, placeMs);
      const name = bucketName(level, startMs);
      const existing = this.#buckets.get(name);
      if (existing !== undefined && existing.state !== 'cascading' && existing.state !== 'removed') {
        return existing;
      }
      if (existing === undefined) {
        // A new level-0 bucket that is already near holds nothing on disk: hot at once.
        const state = level === 0 && nowMs >= hotAtMs(startMs) ? 'hot' : 'cold';
        const bucket = new DelayBucket(this.#store, name, level, startMs, state);
        this.#buckets.set(name, bucket);
        if (state === 'cold') this.#noteActionAt(this.#actionAtMs(bucket));
        return bucket;
      }
      // The bucket is cascading (the clock stepped back): go one level finer.
      assert(level > 0, 'level-0 buckets do not cascade');
      level -= 1;
    }
  }

  async #insert(entry: DelayEntry, maxLevel: number, nowMs: number): Promise<void> {
    const bucket = this.#bucketFor(entry, maxLevel, nowMs);
    await bucket.append([encodeSchedule(entry)]);
    if (bucket.state !== 'hot' && bucket.state !== 'loading') {
      bucket.liveCount += 1;
      return;
    }
    // A copy left by a cascade cut short by a crash: the original is in memory already.
    if (bucket.seenIds.has(entry.id)) return;
    bucket.seenIds.add(entry.id);
    bucket.liveCount += 1;
    this.#heap.push({ entry, bucket });
    if (entry.dueMs < this.#fireAtMs) this.#armFire();
  }

  #armFire(): void {
    if (this.#closed || this.#releasesInFlight >= releasesInFlightMax) return;
    const next = this.#heap.peek();
    const dueMs = next === undefined ? Infinity : Math.max(next.entry.dueMs, this.#notBeforeMs);
    if (dueMs === this.#fireAtMs) return;
    this.#fireTimer?.cancel();
    this.#fireTimer = undefined;
    this.#fireAtMs = dueMs;
    if (dueMs === Infinity) return;
    this.#fireTimer = this.#clock.setTimeout(
      () => {
        this.#fireTimer = undefined;
        this.#fireAtMs = Infinity;
        this.#fire();
      },
      Math.max(0, dueMs - this.#clock.nowMs()),
    );
  }

  #fire(): void {
    if (this.#closed || this.#releasesInFlight >= releasesInFlightMax) return;
    const nowMs = this.#clock.nowMs();
    const taken: HotEntry[] = [];
    while (taken.length < Limits.delayReleaseBatchMax) {
      const next = this.#heap.peek();
      if (next === undefined || next.entry.dueMs > nowMs) break;
      taken.push(this.#heap.pop()!);
    }
    if (taken.length === 0) {
      this.#armFire();
      return;
    }
    this.#releasesInFlight += 1;
    void this.#track(this.#releaseTaken(taken)).finally(() => {
      this.#releasesInFlight -= 1;
      this.#armFire();
    });
    this.#armFire();
  }

  async #releaseTaken(taken: HotEntry[]): Promise<void> {
    try {
      await this.#release(taken.map((hot) => hot.entry));
    } catch (error) {
      this.#onError(error);
      for (const hot of taken) this.#heap.push(hot);
      this.#notBeforeMs = this.#clock.nowMs() + this.#retryMs;
      return;
    }
    this.#notBeforeMs = 0;
    this.#released += taken.length;
    // The done records are written while the next release proceeds: their order does not
    // matter, and a lost one only means a second release after a crash (at-least-once).
    void this.#track(this.#markDone(taken));
  }

  async #markDone(taken: readonly HotEntry[]): Promise<void> {
    const byBucket = new Map<DelayBucket, Buffer[]>();
    for (const hot of taken) {
      let values = byBucket.get(hot.bucket);
      if (values === undefined) byBucket.set(hot.bucket, (values = []));
      values.push(encodeDone(hot.entry.id));
      hot.bucket.liveCount -= 1;
    }
    try {
      await Promise.all([...byBucket].map(([bucket, values]) => bucket.append(values)));
    } catch (error) {
      this.#onError(error);
    }
    for (const bucket of byBucket.keys()) this.#maybeRemove(bucket);
  }

  /** A level-0 bucket is deleted once its second is over and everything in it is released. */
  #maybeRemove(bucket: DelayBucket): void {
    if (bucket.level !== 0 || bucket.state !== 'hot' || bucket.liveCount > 0 || bucket.busy) return;
    if (this.#clock.nowMs() < bucket.endMs) {
      this.#noteActionAt(bucket.endMs);
      return;
    }
    this.#buckets.delete(bucket.name);
    void this.#track(bucket.remove()).catch((error: unknown) => this.#onError(error));
  }

  /** When a bucket next needs attention: loading, cascading, or removal. */
  #actionAtMs(bucket: DelayBucket): number {
    switch (bucket.state) {
      case 'cold':
        return bucket.level === 0 ? hotAtMs(bucket.startMs) : cascadeAtMs(bucket.level, bucket.startMs);
      case 'hot':
        return bucket.liveCount === 0 ? bucket.endMs : Infinity;
      case 'loading':
      case 'cascading':
      case 'removed':
        return Infinity;
    }
  }

  #noteActionAt(atMs: number): void {
    if (this.#closed || atMs >= this.#maintenanceAtMs) return;
    this.#maintenanceTimer?.cancel();
    this.#maintenanceAtMs = atMs;
    this.#maintenanceTimer = this.#clock.setTimeout(
      () => {
        this.#maintenanceTimer = undefined;
        this.#maintenanceAtMs = Infinity;
        this.#maintain();
      },
      Math.max(0, atMs - this.#clock.nowMs()),
    );
  }

  /** Loads buckets falling due, cascades coarse ones, removes empty ones; re-arms itself. */
  #maintain(): void {
    if (this.#closed) return;
    const nowMs = this.#clock.nowMs();
    let nextAtMs = Infinity;
    for (const bucket of [...this.#buckets.values()]) {
      const atMs = this.#actionAtMs(bucket);
      if (atMs > nowMs) {
        nextAtMs = Math.min(nextAtMs, atMs);
        continue;
      }
      if (bucket.state === 'hot') {
        this.#maybeRemove(bucket);
      } else if (bucket.level === 0) {
        void this.#track(this.#load(bucket)).catch((error: unknown) => this.#onError(error));
      } else {
        void this.#track(this.#cascade(bucket)).catch((error: unknown) => this.#onError(error));
      }
    }
    this.#noteActionAt(nextAtMs);
  }

  async #load(bucket: DelayBucket): Promise<void> {
    assert(bucket.state === 'cold' && bucket.level === 0, 'only cold level-0 buckets load');
    bucket.state = 'loading';
    const scheduled = new Map<number, DelayEntry>();
    const done = new Set<number>();
    await bucket.readAll((record) => {
      if (record.kind === DelayRecordKind.done) done.add(record.id);
      else scheduled.set(record.entry.id, record.entry);
    });
    // Entries inserted while loading were pushed (and counted) by their insert already.
    let pushedByInserts = 0;
    for (const id of bucket.seenIds) if (!done.has(id)) pushedByInserts += 1;
    let loaded = 0;
    for (const id of done) bucket.seenIds.add(id);
    for (const [id, entry] of scheduled) {
      if (bucket.seenIds.has(id)) continue;
      bucket.seenIds.add(id);
      this.#heap.push({ entry, bucket });
      loaded += 1;
    }
    bucket.liveCount = loaded + pushedByInserts;
    bucket.state = 'hot';
    this.#armFireIfEarlier();
    if (bucket.liveCount === 0) this.#maybeRemove(bucket);
  }

  #armFireIfEarlier(): void {
    const next = this.#heap.peek();
    if (next !== undefined && next.entry.dueMs < this.#fireAtMs) this.#armFire();
  }

  async #cascade(bucket: DelayBucket): Promise<void> {
    assert(bucket.state === 'cold' && bucket.level > 0, 'only cold coarse buckets cascade');
    bucket.state = 'cascading';
    const nowMs = this.#clock.nowMs();
    let moves: Promise<void>[] = [];
    await bucket.readAll(async (record) => {
      assert(record.kind === DelayRecordKind.schedule, 'coarse buckets hold only schedules');
      // The finer bucket encodes its own record, copying the value out of the read buffer.
      moves.push(
        this.#insert(record.entry, bucket.level - 1, nowMs).then(() => {
          bucket.liveCount -= 1;
        }),
      );
      if (moves.length >= 4096) {
        await Promise.all(moves);
        moves = [];
      }
    });
    await Promise.all(moves);
    this.#buckets.delete(bucket.name);
    await bucket.remove();
  }
}
