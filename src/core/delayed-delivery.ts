// Delayed delivery for one stream (DESIGN.md §4): a message published with a deliver-after
// time in the future is stored durably in the stream's delay index (delay/delay-index.ts),
// not in its partition log, and appended to the partition when it falls due. Consumers of
// queues and topics alike therefore never see it early and never hold it back: they read
// the log as usual, and nothing scans for delayed messages.
//
// Consequences, documented for users:
// - a delayed message gets its offset when it falls due; its publish confirm (once durable in
//   the index) carries offset -1 and `delayed: true`;
// - order: delayed messages are appended in due order (ties in publish order), after whatever
//   the partition holds at that time;
// - release is at-least-once: a kill -9 between the append and the index's done record
//   releases the message again after restart (same id; see delay-index.ts);
// - expiry still applies: a message whose expiry passes while it waits is released and then
//   expired by its consumers (dead-lettered with reason `expired`), never delivered.

import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import type { Message } from './api.js';
import { DelayIndex, type DelayEntry } from './delay/delay-index.js';
import type { DelayStore } from './delay/delay-store.js';
import { decodeMessage, encodeMessage } from './message-codec.js';
import type { StreamPartition } from './stream-partition.js';

export type PublishConfirm = (error: Error | undefined, partition: number, offset: number) => void;

export class DelayedDelivery {
  readonly #index: DelayIndex;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;

  private constructor(index: DelayIndex, clock: Clock, onError: (error: unknown) => void) {
    this.#index = index;
    this.#clock = clock;
    this.#onError = onError;
  }

  static async open(
    store: DelayStore,
    clock: Clock,
    partitions: readonly StreamPartition[],
    onError: (error: unknown) => void,
    /** Also hands each released message to live subscribers. */
    onReleased: (message: Message) => void = () => undefined,
  ): Promise<DelayedDelivery> {
    const index = await DelayIndex.open({
      store,
      clock,
      onError,
      release: (entries) => release(partitions, entries, onReleased),
    });
    return new DelayedDelivery(index, clock, onError);
  }

  /** True when `message` must wait: its deliver-after time is still ahead. */
  holds(message: Message): boolean {
    return message.deliverAfterMs !== undefined && message.deliverAfterMs > this.#clock.nowMs();
  }

  /** Stores a held message in the index; `confirm` gets offset -1 once it is durable. */
  schedule(partition: number, message: Message, confirm: PublishConfirm | undefined): void {
    const dueMs = message.deliverAfterMs;
    assert(dueMs !== undefined, 'only held messages are scheduled');
    this.#index.schedule(Math.ceil(dueMs), partition, encodeMessage(message)).then(
      () => confirm?.(undefined, partition, -1),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        if (confirm === undefined) this.#onError(failure);
        else confirm(failure, partition, -1);
      },
    );
  }

  /** Delayed messages stored and not yet due (or due and not yet appended). */
  get pendingCount(): number {
    return this.#index.pendingCount;
  }

  /** Entries the index holds in memory: those due within about two seconds. */
  get memoryEntries(): number {
    return this.#index.memoryEntries;
  }

  close(): Promise<void> {
    return this.#index.close();
  }
}

/** Appends due messages to their partitions; resolves once all are stored. */
function release(
  partitions: readonly StreamPartition[],
  entries: readonly DelayEntry[],
  onReleased: (message: Message) => void,
): Promise<void> {
  const appends: Promise<void>[] = [];
  for (const entry of entries) {
    const partition = partitions[entry.partition];
    if (partition === undefined) continue; // The stream lost partitions: nothing to append to.
    const message = decodeMessage(entry.value);
    appends.push(
      new Promise<void>((resolve, reject) => {
        partition.enqueue(message, (error) => {
          if (error !== undefined) {
            reject(error);
            return;
          }
          onReleased(message);
          resolve();
        });
      }),
    );
  }
  return Promise.all(appends).then(() => undefined);
}
