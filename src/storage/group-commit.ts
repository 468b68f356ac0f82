// Group commit for fsync policy `always` (DESIGN.md §3): every append waits for an fsync that
// covers it, and one fsync serves every append written before it started.
//
// Appends write their batch at once and then wait here. While no fsync runs, the first
// waiter schedules one for when the current task's synchronous work and microtasks are done
// (queueMicrotask), so that every append made in the same burst — 64 producers answering
// at once, or a stream partition's batch — joins it, without waiting for the next turn of
// the event loop (which would add the whole poll phase, all the other connections' work,
// to every confirm's latency). While an fsync
// runs, new waiters queue for the next one, which starts as soon as the running one ends.
// An fsync covers exactly the offsets written before it started; no append resolves before
// the fsync that covers it. A failed fsync fails every waiter and every later append: after
// a failed fsync the page cache can no longer be trusted to hold what was written.
//
// One writer: `wait` and `covered` are called by the owning log only, in offset order.

import { assert } from '../common/assert.js';
import type { AppendResult } from './log.js';

/** Starts one fsync of everything written so far; resolves with the offset it covers. */
export type SyncAll = () => Promise<number>;

export class GroupCommit {
  readonly #syncAll: SyncAll;
  readonly #onFailure: (error: Error) => void;
  // Waiters as parallel arrays, consumed from #head: no object per waiting append.
  #lastOffsets: number[] = [];
  #results: AppendResult[] = [];
  #resolves: ((result: AppendResult) => void)[] = [];
  #rejects: ((error: Error) => void)[] = [];
  #head = 0;
  #state: 'idle' | 'scheduled' | 'syncing' = 'idle';
  #failure: Error | undefined;
  #drainResolves: (() => void)[] = [];
  /** fsyncs completed and records they covered, for the benchmark's records per fsync. */
  syncCount = 0;
  #coveredOffset = 0;
  recordsCovered = 0;

  constructor(syncAll: SyncAll, onFailure: (error: Error) => void, committedOffset: number) {
    this.#syncAll = syncAll;
    this.#onFailure = onFailure;
    this.#coveredOffset = committedOffset;
  }

  get waitingCount(): number {
    return this.#lastOffsets.length - this.#head;
  }

  /** Resolves with `result` once an fsync covers `lastOffset`. */
  wait(lastOffset: number, result: AppendResult): Promise<AppendResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    assert(lastOffset >= this.#coveredOffset, 'a new append lies beyond what is covered');
    assert(this.waitingCount === 0 || lastOffset > this.#lastOffsets.at(-1)!, 'appends wait in offset order');
    const promise = new Promise<AppendResult>((resolve, reject) => {
      this.#resolves.push(resolve);
      this.#rejects.push(reject);
    });
    this.#lastOffsets.push(lastOffset);
    this.#results.push(result);
    if (this.#state === 'idle') this.#schedule();
    return promise;
  }

  /** Everything below `offset` is durable (an fsync ended, or a roll fsynced a segment). */
  covered(offset: number): void {
    if (offset <= this.#coveredOffset) return;
    this.recordsCovered += offset - this.#coveredOffset;
    this.#coveredOffset = offset;
    let head = this.#head;
    const end = this.#lastOffsets.length;
    while (head < end && this.#lastOffsets[head]! < offset) {
      this.#resolves[head]!(this.#results[head]!);
      head++;
    }
    this.#head = head;
    this.#compact();
  }

  /** Resolves once nothing waits and no fsync runs (for close). */
  drained(): Promise<void> {
    if (this.waitingCount === 0 && this.#state === 'idle') return Promise.resolve();
    return new Promise((resolve) => this.#drainResolves.push(resolve));
  }

  #schedule(): void {
    this.#state = 'scheduled';
    queueMicrotask(() => this.#run());
  }

  #run(): void {
    if (this.#failure !== undefined) return;
    this.#state = 'syncing';
    this.#syncAll().then(
      (offset) => {
        this.syncCount++;
        this.covered(offset);
        this.#state = 'idle';
        if (this.waitingCount > 0) this.#schedule();
        else this.#settleDrains();
      },
      (error: Error) => this.fail(error),
    );
  }

  /** Fails every waiter and every later wait. */
  fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#state = 'idle';
    for (let index = this.#head; index < this.#lastOffsets.length; index++) this.#rejects[index]!(error);
    this.#head = this.#lastOffsets.length;
    this.#compact();
    this.#settleDrains();
    this.#onFailure(error);
  }

  #settleDrains(): void {
    const resolves = this.#drainResolves;
    this.#drainResolves = [];
    for (const resolve of resolves) resolve();
  }

  #compact(): void {
    if (this.#head === this.#lastOffsets.length) {
      this.#lastOffsets = [];
      this.#results = [];
      this.#resolves = [];
      this.#rejects = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#lastOffsets.length) {
      this.#lastOffsets = this.#lastOffsets.slice(this.#head);
      this.#results = this.#results.slice(this.#head);
      this.#resolves = this.#resolves.slice(this.#head);
      this.#rejects = this.#rejects.slice(this.#head);
      this.#head = 0;
    }
  }
}
