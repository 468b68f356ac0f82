// The deliveries a connection has handed to its client and may still hear an ack, nack or
// term for. Acks on the wire name a delivery by stream, consumer, partition, offset and
// attempt; the core wants the Delivery it handed out, so the connection remembers them.
//
// Bounded (NativeLimits.trackedDeliveriesMax): a consumer with ack policy `none` never
// acks, so the oldest entries are forgotten past the limit. An ack for a forgotten delivery
// gets WEIR_STALE_ACK, and the core redelivers the message after its ack wait, as it would
// for any lost ack.

import type { Delivery } from '../../core/api.js';
import type { AckEntry } from './codec/index.js';
import { deliveryKey } from './mapping.js';

export class DeliveryTracker {
  readonly #deliveries = new Map<string, Delivery>();
  readonly #deliveriesMax: number;

  constructor(deliveriesMax: number) {
    this.#deliveriesMax = deliveriesMax;
  }

  get size(): number {
    return this.#deliveries.size;
  }

  remember(delivery: Delivery): void {
    const key = deliveryKey(delivery.stream, delivery.consumer, delivery.partition, delivery.offset);
    // A redelivery replaces the earlier attempt, and moves to the young end.
    this.#deliveries.delete(key);
    this.#deliveries.set(key, delivery);
    if (this.#deliveries.size > this.#deliveriesMax) {
      const oldest = this.#deliveries.keys().next();
      if (oldest.done !== true) this.#deliveries.delete(oldest.value);
    }
  }

  /**
   * The delivery an ack entry answers, removed from the tracker; undefined if this
   * connection does not hold that attempt (already answered, forgotten, or a stale attempt).
   */
  take(stream: string, consumer: string, entry: AckEntry): Delivery | undefined {
    const key = deliveryKey(stream, consumer, entry.partition, entry.offset);
    const delivery = this.#deliveries.get(key);
    if (delivery === undefined || delivery.deliveryCount !== entry.deliveryCount) return undefined;
    this.#deliveries.delete(key);
    return delivery;
  }

  /** Puts back a delivery whose ack the core refused, so a retry can find it. */
  restore(delivery: Delivery): void {
    this.remember(delivery);
  }

  clear(): void {
    this.#deliveries.clear();
  }
}
