// Many deadlines, one Clock timer. Ack-wait expiries and delayed redeliveries go into a binary
// min-heap on due time; one timer is armed for the earliest. Entries are cancelled lazily
// (the owner checks whether an entry is still live when it fires), and the heap is compacted
// whenever dead entries outnumber live ones, so its size stays within twice what is live.
// At a steady 300,000 deliveries a second this costs a heap push per delivery and no timer
// object per message.

import type { Clock, TimerHandle } from '../common/clock.js';

export interface TimerEntry {
  readonly dueMs: number;
  readonly partition: number;
  readonly offset: number;
  readonly deliveryCount: number;
}

export class TimerHeap {
  readonly #clock: Clock;
  readonly #onDue: (entry: TimerEntry) => void;
  readonly #isLive: (entry: TimerEntry) => boolean;
  #heap: TimerEntry[] = [];
  #timer: TimerHandle | undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #liveEstimate = 0;

  /** `onDue` runs for each entry that comes due and is still live. */
  constructor(clock: Clock, onDue: (entry: TimerEntry) => void, isLive: (entry: TimerEntry) => boolean) {
    this.#clock = clock;
    this.#onDue = onDue;
    this.#isLive = isLive;
  }

  get size(): number {
    return this.#heap.length;
  }

  push(entry: TimerEntry): void {
    const heap = this.#heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentEntry = heap[parent] as TimerEntry;
      if (parentEntry.dueMs <= entry.dueMs) break;
      heap[index] = parentEntry;
      index = parent;
    }
    heap[index] = entry;
    this.#liveEstimate += 1;
    if (heap.length > 1024 && heap.length > 2 * this.#liveEstimate) this.#compact();
    this.#arm();
  }

  /** Tells the heap one entry went dead (acked), so compaction knows when to run. */
  noteDead(): void {
    if (this.#liveEstimate > 0) this.#liveEstimate -= 1;
    if (this.#heap.length > 1024 && this.#heap.length > 2 * this.#liveEstimate + 1024) this.#compact();
  }

  cancelAll(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
    this.#heap = [];
    this.#liveEstimate = 0;
  }

  #arm(): void {
    const head = this.#heap[0];
    if (head === undefined) return;
    if (this.#timer !== undefined && this.#timerDueMs <= head.dueMs) return;
    this.#timer?.cancel();
    this.#timerDueMs = head.dueMs;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, head.dueMs - this.#clock.nowMs()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
    const nowMs = this.#clock.nowMs();
    const due: TimerEntry[] = [];
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || head.dueMs > nowMs) break;
      this.#pop();
      if (this.#isLive(head)) due.push(head);
    }
    this.#liveEstimate = Math.min(this.#liveEstimate, this.#heap.length);
    for (const entry of due) this.#onDue(entry);
    this.#arm();
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    siftDown(heap, 0);
  }

  /** Drops dead entries and restores the heap order bottom-up: O(n). */
  #compact(): void {
    const heap = this.#heap.filter((entry) => this.#isLive(entry));
    for (let index = (heap.length >> 1) - 1; index >= 0; index--) siftDown(heap, index);
    this.#heap = heap;
    this.#liveEstimate = heap.length;
  }
}

function siftDown(heap: TimerEntry[], start: number): void {
  const moving = heap[start] as TimerEntry;
  let index = start;
  for (;;) {
    const left = 2 * index + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child =
      right < heap.length && (heap[right] as TimerEntry).dueMs < (heap[left] as TimerEntry).dueMs
        ? right
        : left;
    if ((heap[child] as TimerEntry).dueMs >= moving.dueMs) break;
    heap[index] = heap[child] as TimerEntry;
    index = child;
  }
  heap[index] = moving;
}
