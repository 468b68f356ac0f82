// Idempotent publishing for the network client: confirmed publishes carry an idempotent
// producer's stamp (producer id, epoch, sequence), so those the client sends again after a
// reconnect are confirmed by the broker, not stored twice (src/core/dedup/producer-state.ts).
//
// The broker counts a producer's sequences per stream partition, from 0, in order, without
// gaps. The client therefore stamps a message only when it knows the partition it lands on:
//
// - the stream: asked once per subject ("which stream captures this subject", then that
//   stream's partition count), remembered up to NativeLimits.producerRoutesMax subjects and
//   forgotten on reconnect;
// - the partition: the key's hash modulo the partition count (partition-hash.ts, the same
//   function the broker uses); without a key only a single-partition stream is known, since
//   the broker spreads keyless messages round-robin.
//
// Messages it cannot place (keyless on several partitions, a subject no stream captures,
// delayed messages, which the broker does not deduplicate) go unstamped: at-least-once, as
// before. The identity (PRODUCER_INIT) is asked for on the first confirmed publish and kept
// for the client's life, across reconnects, which is what makes a re-sent sequence a retry.
//
// Order: stamps are handed out in the order `publish` is called, and a publish that waits for
// a lookup holds back every later one, so sequences reach the broker in order. A stamped
// publish the broker refuses (stream full, a stream deleted or re-partitioned meanwhile)
// leaves a gap the broker would refuse: the client then starts over with a new identity and
// fresh routes. Publishes of the same partition already in flight behind the refused one
// fail too (WEIR_INVALID_ARGUMENT, sequence skips ahead); they were sent, not stored.

import { ErrorCode, isWeirError } from '../common/errors.js';
import { NativeLimits } from '../common/limits.js';
import type { PublishAck } from '../core/api.js';
import { partitionForKey } from '../core/partition-hash.js';
import type { WireProducerStamp, WirePublish } from '../protocols/native/codec/index.js';

export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly epoch: number;
}

/** The stream that captures a subject, and its partition count; null when none does. */
export interface ProducerRoute {
  readonly stream: string;
  readonly partitions: number;
}

export interface ProducerBroker {
  /** PRODUCER_INIT; rejects WEIR_NOT_SUPPORTED on a broker without idempotent producers. */
  initProducer(): Promise<ProducerIdentity>;
  route(subject: string): Promise<ProducerRoute | null>;
}

type Send = (message: WirePublish) => Promise<PublishAck>;

export class IdempotentProducer {
  readonly #broker: ProducerBroker;
  /** Undefined until asked for; null when the broker has no idempotent producers. */
  #identity: ProducerIdentity | null | undefined;
  readonly #routes = new Map<string, ProducerRoute | null>();
  /** The next sequence per `stream \0 partition`. */
  readonly #sequences = new Map<string, number>();
  /** Publishes waiting for a lookup; while any wait, later ones queue behind them. */
  #waiting = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(broker: ProducerBroker) {
    this.#broker = broker;
  }

  /** Stamps the message if it can be placed, and sends it; resolves with its confirmation. */
  publish(message: WirePublish, send: Send): Promise<PublishAck> {
    if (this.#waiting === 0 && this.#identity !== undefined && this.#routes.has(message.subject)) {
      return this.#send(message, send).ack;
    }
    this.#waiting += 1;
    const sent = this.#tail
      .then(() => this.#prepare(message.subject))
      .then(
        () => {
          this.#waiting -= 1;
          return this.#send(message, send);
        },
        (error: unknown) => {
          this.#waiting -= 1;
          throw error;
        },
      );
    this.#tail = sent.then(
      () => undefined,
      () => undefined,
    );
    return sent.then((result) => result.ack);
  }

  /** Routes may have changed while the client was away; the identity and sequences stand. */
  reconnected(): void {
    this.#routes.clear();
  }

  async #prepare(subject: string): Promise<void> {
    if (this.#identity === undefined) {
      try {
        this.#identity = await this.#broker.initProducer();
      } catch (error) {
        if (!isWeirError(error, ErrorCode.NotSupported)) throw error;
        this.#identity = null;
      }
    }
    if (this.#identity === null || this.#routes.has(subject)) return;
    const route = await this.#broker.route(subject);
    if (this.#routes.size >= NativeLimits.producerRoutesMax) this.#routes.clear();
    this.#routes.set(subject, route);
  }

  /** Wrapped so that `then` does not flatten the confirmation into the queue's promise. */
  #send(message: WirePublish, send: Send): { ack: Promise<PublishAck> } {
    const identity = this.#identity;
    const route = this.#routes.get(message.subject);
    const partition = route === undefined || route === null ? undefined : partitionOf(message, route);
    if (identity === undefined || identity === null || route === undefined || route === null) {
      return { ack: send(message) };
    }
    if (partition === undefined || message.delayMs !== undefined || message.deliverAfterMs !== undefined) {
      return { ack: send(message) };
    }
    const lane = `${route.stream}\u0000${partition}`;
    const sequence = this.#sequences.get(lane) ?? 0;
    this.#sequences.set(lane, sequence + 1);
    const stamp: WireProducerStamp = { id: identity.producerId, epoch: identity.epoch, sequence };
    let ack: Promise<PublishAck>;
    try {
      ack = send({ ...message, producer: stamp });
    } catch (error) {
      // Refused before it was queued (pending bytes over the limit): the sequence is unused.
      this.#sequences.set(lane, sequence);
      throw error;
    }
    ack.then(
      (result) => {
        // Stored elsewhere than predicted: the stream changed, and this lane's count with it.
        if (result.stream !== route.stream || result.partition !== partition) this.#restart(identity);
      },
      () => this.#restart(identity),
    );
    return { ack };
  }

  /** After a refused stamp the broker expects a sequence the client has passed: start over. */
  #restart(identity: ProducerIdentity): void {
    if (this.#identity !== identity) return;
    this.#identity = undefined;
    this.#sequences.clear();
    this.#routes.clear();
  }
}

function partitionOf(message: WirePublish, route: ProducerRoute): number | undefined {
  if (message.key !== undefined) return partitionForKey(message.key, route.partitions);
  return route.partitions === 1 ? 0 : undefined;
}
