// Refills a consumer partition's read-ahead buffer from the stream, and loads messages due for
// redelivery. One read and one redelivery load per partition at a time.
//
// Three ways to find the next messages (see consumer-partition.ts):
// - unfiltered: read the partition in order from the cursor;
// - filtered, publish-time matches: read exactly the offsets the trie recorded;
// - filtered fallback: read from the cursor and keep what the filter matches (the skipped
//   ones are counted in `scanSkipped`).
// Acked offsets (after a restart) are skipped without decoding. Offsets compaction removed
// (`compact` streams) are settled like skipped ones.

import { Limits } from '../common/limits.js';
import type { ConsumerPartition } from './consumer-partition.js';
import { selectAndOrder } from './consumer-selection.js';
import type { Consumer } from './consumer.js';
import type { StoredMessage } from './stream-partition.js';
import { subjectMatches } from './subject.js';

export class ConsumerReader {
  readonly #consumer: Consumer;

  constructor(consumer: Consumer) {
    this.#consumer = consumer;
  }

  refill(partition: ConsumerPartition): void {
    this.#loadRedeliveries(partition);
    if (partition.reading || partition.readAheadLength > 0) return;
    const source = this.#consumer.host.partitions[partition.index];
    if (source === undefined) return;
    if (partition.cursor < source.firstOffset) partition.forgetBelow(source.firstOffset);
    const filter = this.#consumer.config.filterSubject;
    let read: Promise<StoredMessage[]> | undefined;
    if (filter === undefined) read = this.#readInOrder(partition);
    else if (partition.matchedOverflowed || partition.cursor < partition.scanUntil)
      read = this.#scan(partition, filter);
    else read = this.#readMatched(partition);
    if (read === undefined) return;
    partition.reading = true;
    read.then(
      (messages) => {
        partition.reading = false;
        if (this.#consumer.closed) return;
        // core2 hook: selector and priority (consumer-selection.ts).
        const selected = selectAndOrder(this.#consumer, this.#consumer.selector, partition, messages);
        if (selected.length > 0) partition.readAhead.push(...selected);
        this.#consumer.dispatch();
      },
      () => {
        // The log was closed under us (shutdown or deletion); the next dispatch retries.
        partition.reading = false;
        this.#consumer.notifyReadSettled();
      },
    );
  }

  #readInOrder(partition: ConsumerPartition): Promise<StoredMessage[]> | undefined {
    const source = this.#consumer.host.partitions[partition.index];
    if (source === undefined || partition.cursor >= source.nextOffset) return undefined;
    const from = partition.tracker.nextUnacked(partition.cursor);
    const tracker = partition.tracker;
    const skipAcked = tracker.ackedAboveFloor > 0 ? (offset: number) => !tracker.isAcked(offset) : undefined;
    return source.read(from, readCount(), skipAcked).then(({ messages, scannedTo }) => {
      partition.cursor = Math.max(partition.cursor, scannedTo);
      // Offsets compaction removed are never delivered: settle them, so the floor moves on.
      if (this.#compacted()) this.#consumer.settleSkipped(partition, from, scannedTo, messages);
      return messages;
    });
  }

  #scan(partition: ConsumerPartition, filter: string): Promise<StoredMessage[]> | undefined {
    const source = this.#consumer.host.partitions[partition.index];
    if (source === undefined) return undefined;
    if (partition.cursor >= source.nextOffset) {
      if (partition.matchedOverflowed) {
        // Caught up: publish-time matching takes over again from here.
        partition.matchedOverflowed = false;
        partition.scanUntil = source.nextOffset;
      }
      return undefined;
    }
    const until = partition.matchedOverflowed ? source.nextOffset : partition.scanUntil;
    const tracker = partition.tracker;
    const start = partition.cursor;
    const from = tracker.nextUnacked(start);
    return source
      .read(from, readCount(), (offset) => offset < until && !tracker.isAcked(offset))
      .then(({ messages, scannedTo }) => {
        partition.cursor = Math.max(partition.cursor, Math.min(scannedTo, until));
        const kept = messages.filter((stored) => subjectMatches(filter, stored.message.subject));
        partition.scanSkipped += messages.length - kept.length;
        this.#consumer.settleSkipped(partition, start, partition.cursor, kept);
        return kept;
      });
  }

  #readMatched(partition: ConsumerPartition): Promise<StoredMessage[]> | undefined {
    const source = this.#consumer.host.partitions[partition.index];
    if (source === undefined) return undefined;
    partition.dropMatchesBelow(Math.max(partition.cursor, source.firstOffset));
    const count = Math.min(partition.matchedLength, readCount());
    if (count === 0) {
      // Every offset appended so far without a match is not this consumer's: settle it, so
      // the ack floor (and retention) moves on past other subjects' messages.
      if (partition.cursor < source.nextOffset) {
        this.#consumer.settleSkipped(partition, partition.cursor, source.nextOffset, []);
        partition.cursor = source.nextOffset;
      }
      return undefined;
    }
    const wanted = new Set<number>();
    for (let index = 0; index < count; index++) {
      wanted.add(partition.matched[partition.matchedHead + index] as number);
    }
    const last = partition.matched[partition.matchedHead + count - 1] as number;
    this.#consumer.settleSkipped(partition, partition.cursor, last + 1, wanted);
    partition.matchedHead += count;
    partition.cursor = last + 1;
    const tracker = partition.tracker;
    const pick = (offset: number): boolean => wanted.has(offset) && !tracker.isAcked(offset);
    const first = partition.matched[partition.matchedHead - count] as number;
    const read = readAll(first, last, pick, (from) => source.read(from, count, pick));
    if (!this.#compacted()) return read;
    return read.then((messages) => {
      // Matched at publish time, removed by compaction since: settled, never delivered.
      this.#consumer.settleSkipped(partition, first, last + 1, messages);
      return messages;
    });
  }

  #compacted(): boolean {
    return this.#consumer.host.config.retention === 'compact';
  }

  #loadRedeliveries(partition: ConsumerPartition): void {
    if (partition.loadingRedeliveries || partition.redeliverDue.length === 0) return;
    const source = this.#consumer.host.partitions[partition.index];
    if (source === undefined) return;
    const offsets = partition.redeliverDue.splice(0, readCount());
    partition.loadingRedeliveries = true;
    const wanted = new Set(offsets);
    const first = offsets[0] as number;
    const last = offsets[offsets.length - 1] as number;
    const pick = (offset: number): boolean => wanted.has(offset);
    readAll(first, last, pick, (from) => source.read(from, offsets.length, pick)).then(
      (messages) => {
        partition.loadingRedeliveries = false;
        const found = new Set(messages.map((stored) => stored.offset));
        for (const offset of offsets) {
          // Gone from the stream (retention): nothing left to redeliver.
          if (!found.has(offset)) this.#consumer.forgetUnacked(partition, offset);
        }
        partition.redeliverReady = mergeByOffset(partition.redeliverReady, messages);
        this.#consumer.dispatch();
      },
      () => {
        partition.loadingRedeliveries = false;
        for (const offset of offsets) partition.addRedeliverDue(offset);
        this.#consumer.notifyReadSettled();
      },
    );
  }
}

/** Messages one refill asks for: a consumer that keeps up wakes less often for more. */
function readCount(): number {
  return Limits.consumerReadAheadMessagesMax;
}

/** Reads until every wanted offset in [first, last] was looked at. */
async function readAll(
  first: number,
  last: number,
  _pick: (offset: number) => boolean,
  readFrom: (from: number) => Promise<{ messages: StoredMessage[]; scannedTo: number }>,
): Promise<StoredMessage[]> {
  const result: StoredMessage[] = [];
  let from = first;
  while (from <= last) {
    const { messages, scannedTo } = await readFrom(from);
    result.push(...messages);
    if (scannedTo <= from) break;
    from = scannedTo;
  }
  return result;
}

function mergeByOffset(a: StoredMessage[], b: StoredMessage[]): StoredMessage[] {
  if (a.length === 0) return b;
  return [...a, ...b].sort((left, right) => left.offset - right.offset);
}
