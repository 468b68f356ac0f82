// A consumer's state on one stream partition: what is acked, what is in flight, what waits
// for redelivery, and where reading continues.
//
// Offsets below `cursor` have been delivered at least once (or skipped as acked); each is
// acked (in the tracker), in flight, waiting for redelivery, or being dead-lettered.
// Offsets from `cursor` on have never been delivered in this process.
//
// Filtered consumers (DESIGN.md §4): the stream matches each appended subject against its
// consumers' filters once, through a subject trie, and appends the offset to `matched` of
// every consumer whose filter matches. Reading then touches only matching offsets. Two
// cases fall back to a filtered read of the log, which decodes and skips non-matching
// messages (counted in `scanSkipped`): offsets below `scanUntil` (stored before this
// process or this consumer existed), and a consumer whose `matched` list overflowed its
// limit while it lagged; it resumes publish-time matching once it catches up.

import { Limits } from '../common/limits.js';
import type { Delivery } from './api.js';
import { AckTracker } from './ack-tracker.js';
import type { TimerEntry } from './timer-heap.js';
import type { StoredMessage } from './stream-partition.js';

export interface Receiver {
  readonly id: number;
  readonly sessionId: string;
  readonly kind: 'push' | 'pull';
  credit: number;
  readonly creditOnAck: boolean;
  closed: boolean;
  deliver(delivery: Delivery): void;
  onClosed(error: Error | undefined): void;
  /** Pull requests: resolve if something was delivered (called after each dispatch pass). */
  settle?(): void;
}

/** One delivery awaiting its ack; also its own entry in the ack-wait timer heap. */
export interface InFlight extends TimerEntry {
  readonly receiver: Receiver;
  readonly key: string | undefined;
}

export class ConsumerPartition {
  readonly index: number;
  tracker: AckTracker;
  cursor: number;
  readonly inFlight = new Map<number, InFlight>();
  /** Attempts made for unacked offsets that failed at least once or are redelivered (restored from the state log). */
  readonly deliveryCounts = new Map<number, number>();
  /** The error text of the latest nack, for dead-letter headers. */
  readonly lastErrors = new Map<number, string>();
  /** Offsets due for redelivery now, ascending, not yet loaded. */
  readonly redeliverDue: number[] = [];
  /** Loaded redeliveries, ascending by offset. */
  redeliverReady: StoredMessage[] = [];
  /** Offsets waiting for a delayed redelivery or a dead-letter publish. */
  readonly parked = new Set<number>();
  /** Messages read from `cursor` on, not yet delivered. */
  readAhead: StoredMessage[] = [];
  readAheadHead = 0;
  reading = false;
  loadingRedeliveries = false;

  /** Publish-time matches of a filtered consumer, ascending. */
  matched: number[] = [];
  matchedHead = 0;
  /** Offsets below this must be found by a filtered read of the log. */
  scanUntil: number;
  matchedOverflowed = false;
  scanSkipped = 0;

  constructor(index: number, floor: number, scanUntil: number) {
    this.index = index;
    this.tracker = new AckTracker(floor);
    this.cursor = floor;
    this.scanUntil = scanUntil;
  }

  get matchedLength(): number {
    return this.matched.length - this.matchedHead;
  }

  /** Records a publish-time match; false once the list overflowed (the consumer scans instead). */
  addMatch(offset: number): void {
    if (this.matchedOverflowed) return;
    if (this.matchedLength >= Limits.consumerMatchedOffsetsMax) {
      this.matchedOverflowed = true;
      this.matched = [];
      this.matchedHead = 0;
      return;
    }
    this.matched.push(offset);
  }

  /** Drops matched offsets below `offset` (read past, or deleted by retention). */
  dropMatchesBelow(offset: number): void {
    while (this.matchedHead < this.matched.length && (this.matched[this.matchedHead] ?? 0) < offset) {
      this.matchedHead += 1;
    }
    if (this.matchedHead > 1024 && this.matchedHead * 2 > this.matched.length) {
      this.matched = this.matched.slice(this.matchedHead);
      this.matchedHead = 0;
    }
  }

  peekReadAhead(): StoredMessage | undefined {
    return this.readAhead[this.readAheadHead];
  }

  shiftReadAhead(): void {
    this.readAheadHead += 1;
    if (this.readAheadHead >= this.readAhead.length) {
      this.readAhead = [];
      this.readAheadHead = 0;
    }
  }

  get readAheadLength(): number {
    return this.readAhead.length - this.readAheadHead;
  }

  /** Unacked offsets this partition holds outside the cursor path. */
  get outstanding(): number {
    return this.inFlight.size + this.redeliverDue.length + this.redeliverReady.length + this.parked.size;
  }

  addRedeliverDue(offset: number): void {
    const list = this.redeliverDue;
    let index = list.length;
    while (index > 0 && (list[index - 1] ?? 0) > offset) index -= 1;
    list.splice(index, 0, offset);
  }

  /** Everything below `offset` is gone from the stream: forget it. */
  forgetBelow(offset: number): void {
    this.tracker.advanceFloorTo(offset);
    if (this.cursor < offset) {
      this.cursor = offset;
      this.readAhead = this.readAhead.slice(this.readAheadHead).filter((stored) => stored.offset >= offset);
      this.readAheadHead = 0;
    }
    this.dropMatchesBelow(offset);
    for (const known of this.deliveryCounts.keys()) {
      if (known < offset && !this.inFlight.has(known)) this.deliveryCounts.delete(known);
    }
  }
}
