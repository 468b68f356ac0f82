// One time bucket of the delay index: its Log, opened lazily, and an append queue in front
// of it that writes everything queued in one event-loop turn as one batch (so scheduling a
// million messages costs batches, not a million appends).

import { Offset } from '../../common/branded.js';
import type { Log } from '../../storage/log.js';
import type { DelayStore } from './delay-store.js';
import { type DelayRecord, decodeDelayRecord } from './delay-record.js';
import { bucketEndMs } from './delay-levels.js';

/**
 * `cold`: on disk only. `loading` → `hot`: a level-0 bucket whose entries are in the index's
 * heap. `cascading`: a coarser bucket moving its entries to finer ones. `removed`: deleted.
 */
export type BucketState = 'cold' | 'loading' | 'hot' | 'cascading' | 'removed';

const readChunkBytes = 1024 * 1024;

interface QueuedAppend {
  readonly value: Buffer;
  readonly settle: (error: Error | undefined) => void;
}

export class DelayBucket {
  readonly name: string;
  readonly level: number;
  readonly startMs: number;
  readonly endMs: number;
  state: BucketState;
  /** Entries not yet released (level 0) or not yet cascaded (coarser levels). */
  liveCount = 0;
  /** Hot buckets: ids in the heap or already released, so a duplicate is never loaded twice. */
  readonly seenIds = new Set<number>();
  readonly #store: DelayStore;
  #log: Promise<Log> | undefined;
  #queue: QueuedAppend[] = [];
  #flushScheduled = false;
  #appending = 0;

  constructor(store: DelayStore, name: string, level: number, startMs: number, state: BucketState) {
    this.#store = store;
    this.name = name;
    this.level = level;
    this.startMs = startMs;
    this.endMs = bucketEndMs(level, startMs);
    this.state = state;
  }

  log(): Promise<Log> {
    this.#log ??= this.#store.open(this.name);
    return this.#log;
  }

  /** Appends records whole; resolves once durable under the log's fsync policy. */
  append(values: readonly Buffer[]): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let left = values.length;
      let failed = false;
      const settle = (error: Error | undefined): void => {
        if (failed) return;
        if (error !== undefined) {
          failed = true;
          reject(error);
        } else if (--left === 0) {
          resolve();
        }
      };
      for (const value of values) this.#queue.push({ value, settle });
      this.#scheduleFlush();
    });
  }

  /** True while appends are queued or being written. */
  get busy(): boolean {
    return this.#queue.length > 0 || this.#appending > 0;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, 10_000);
    if (batch.length === 0) return;
    if (this.#queue.length > 0) this.#scheduleFlush();
    this.#appending += 1;
    try {
      const log = await this.log();
      await log.append({ records: batch.map((queued) => ({ value: queued.value })) });
      for (const queued of batch) queued.settle(undefined);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const queued of batch) queued.settle(failure);
    } finally {
      this.#appending -= 1;
    }
  }

  /** Visits every committed record in log order, one read chunk at a time. */
  async readAll(visit: (record: DelayRecord) => void | Promise<void>): Promise<void> {
    const log = await this.log();
    let from = log.startOffset as number;
    for (;;) {
      if (from >= log.nextOffset) return;
      const batches = await log.read(Offset(from), readChunkBytes);
      if (batches.length === 0) return;
      for (const batch of batches) {
        for (const record of batch.records()) {
          if (record.offset < from) continue;
          const pending = visit(decodeDelayRecord(record.value, this.name));
          if (pending !== undefined) await pending;
        }
        from = batch.lastOffset + 1;
      }
    }
  }

  async remove(): Promise<void> {
    this.state = 'removed';
    const log = await this.log();
    await this.#store.remove(this.name, log);
  }

  async close(): Promise<void> {
    if (this.#log === undefined || this.state === 'removed') return;
    const log = await this.#log;
    await log.close();
  }
}
