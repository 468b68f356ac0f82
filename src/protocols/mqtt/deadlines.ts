// Connection deadlines: the CONNECT timeout and the keep alive of every MQTT connection of a
// server, on one Clock timer. A timer per connection (a Node Timeout, its closure and its
// handle) costs a few hundred bytes of every idle connection; here a connection costs one
// entry in a bucket.
//
// Time is cut into slices of `sliceMs`; a deadline goes into the bucket of the slice it falls
// in and comes due at that slice's end, so a connection is checked at most `sliceMs` after
// its deadline, never before it. Buckets are keyed by slice number; one timer is armed for
// the earliest. When a bucket comes due, each of its members says whether it is done or when
// to look again (keep alive: traffic since the deadline was set moves it, without touching
// the buckets on every packet). A member removed (closed connection) leaves its bucket at
// once, so a closed connection is not held until its deadline.

import type { Clock, TimerHandle } from '../../common/clock.js';

export interface DeadlineMember {
  /** The slice this member waits in, or -1; owned by ConnectionDeadlines. */
  deadlineSlice: number;
  /** Its deadline has come: returns the next deadline (ms since the epoch) or undefined. */
  onDeadline(nowMs: number): number | undefined;
}

/** The keep alive is checked at most this long after 1.5 × keep alive of silence. */
export const deadlineSliceMs = 100;

export class ConnectionDeadlines {
  readonly #clock: Clock;
  readonly #sliceMs: number;
  /** Slices count from here, so that a slice number is a small integer (no boxed double per member). */
  readonly #epochMs: number;
  readonly #buckets = new Map<number, Set<DeadlineMember>>();
  #timer: TimerHandle | undefined;
  /** The slice the timer is armed for; +Infinity when none is. */
  #armedSlice = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(clock: Clock, sliceMs = deadlineSliceMs) {
    this.#clock = clock;
    this.#sliceMs = sliceMs;
    this.#epochMs = clock.nowMs();
  }

  /** Members waiting, for tests and statistics. */
  get size(): number {
    let size = 0;
    for (const bucket of this.#buckets.values()) size += bucket.size;
    return size;
  }

  /** (Re)schedules `member` for `dueMs`. */
  schedule(member: DeadlineMember, dueMs: number): void {
    this.remove(member);
    if (this.#closed) return;
    const slice = Math.max(0, Math.ceil((dueMs - this.#epochMs) / this.#sliceMs));
    let bucket = this.#buckets.get(slice);
    if (bucket === undefined) {
      bucket = new Set();
      this.#buckets.set(slice, bucket);
    }
    bucket.add(member);
    member.deadlineSlice = slice;
    if (slice < this.#armedSlice) this.#arm(slice);
  }

  remove(member: DeadlineMember): void {
    const slice = member.deadlineSlice;
    if (slice === -1) return;
    member.deadlineSlice = -1;
    const bucket = this.#buckets.get(slice);
    if (bucket === undefined) return;
    bucket.delete(member);
    if (bucket.size === 0) this.#buckets.delete(slice);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armedSlice = Number.POSITIVE_INFINITY;
    for (const bucket of this.#buckets.values()) for (const member of bucket) member.deadlineSlice = -1;
    this.#buckets.clear();
  }

  #arm(slice: number): void {
    this.#timer?.cancel();
    this.#armedSlice = slice;
    const delayMs = Math.max(0, this.#epochMs + slice * this.#sliceMs - this.#clock.nowMs());
    this.#timer = this.#clock.setTimeout(() => this.#fire(), delayMs);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedSlice = Number.POSITIVE_INFINITY;
    const nowMs = this.#clock.nowMs();
    const nowSlice = Math.floor((nowMs - this.#epochMs) / this.#sliceMs);
    const due: number[] = [];
    for (const slice of this.#buckets.keys()) if (slice <= nowSlice) due.push(slice);
    due.sort((a, b) => a - b);
    for (const slice of due) {
      const bucket = this.#buckets.get(slice);
      if (bucket === undefined) continue;
      this.#buckets.delete(slice);
      for (const member of bucket) {
        if (member.deadlineSlice !== slice) continue;
        member.deadlineSlice = -1;
        const nextDueMs = member.onDeadline(nowMs);
        if (nextDueMs !== undefined) this.schedule(member, nextDueMs);
      }
    }
    if (this.#closed) return;
    // schedule() above may have armed the timer already, for the earliest slice it added.
    let next = Number.POSITIVE_INFINITY;
    for (const slice of this.#buckets.keys()) if (slice < next) next = slice;
    if (next !== Number.POSITIVE_INFINITY && next < this.#armedSlice) this.#arm(next);
  }
}
