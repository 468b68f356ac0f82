// The network client's subscriptions: remembered under their id and restored on every new
// connection; deliveries routed to them, credit granted back as the application consumes.

import { type ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { NativeLimits } from '../common/limits.js';
import type { DestinationRef } from '../core/destinations.js';
import type { Frame } from '../protocols/native/codec/index.js';
import type { Connection } from './connection.js';
import type { Settler } from './network-message.js';
import { NetworkMessage, streamMessages } from './network-message.js';
import { NetworkSubscription } from './network-subscription.js';
import type { ConsumerTarget, Subscription, TopicSubscribeOptions } from './types.js';

interface SubscriptionRecord {
  readonly subscription: NetworkSubscription;
  /** The frame that (re)creates it on a connection; undefined while a durable topic is being set up. */
  open: Frame | undefined;
  stream: string | undefined;
  consumer: string | undefined;
  readonly prefetch: number;
  consumedSinceGrant: number;
}

/** As the in-process client. */
const prefetchDefault = 256;
const liveBufferDefault = 1_000;

/** What the subscriptions need of their client. */
export interface SubscriptionLink {
  readonly settler: Settler;
  connection(): Connection | undefined;
  epoch(): number;
  closed(): boolean;
  whenConnected(): Promise<Connection>;
  durableTopic(topic: string, durable: string): Promise<DestinationRef>;
  flushSettles(): void;
  handlerFailed(error: Error): void;
}

export class NetworkSubscriptions {
  readonly #link: SubscriptionLink;
  readonly #subscriptions = new Map<number, SubscriptionRecord>();
  #nextSubscriptionId = 1;

  constructor(link: SubscriptionLink) {
    this.#link = link;
  }

  /** A topic subscription (live, or durable with `durable`), or an attachment to a stream consumer. */
  subscribe(target: string | ConsumerTarget, options: TopicSubscribeOptions): Subscription {
    const live = typeof target === 'string' && options.durable === undefined;
    const prefetch = options.prefetch ?? prefetchDefault;
    if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > NativeLimits.creditMax) {
      throw new InvalidArgumentError(`prefetch must be an integer from 1 to ${NativeLimits.creditMax}`);
    }
    const bufferMessagesMax = options.bufferMessagesMax ?? liveBufferDefault;
    const id = this.#nextSubscriptionId++;
    const subscription = new NetworkSubscription(
      {
        id,
        kind: live ? 'live' : 'push',
        callback: options.callback,
        onError: options.onError,
        bufferMessagesMax,
        slowConsumerPolicy: options.slowConsumerPolicy ?? 'drop_oldest',
      },
      {
        consumed: (owner, count) => this.#consumed(owner, count),
        detach: (owner) => this.#detach(owner),
        handlerFailed: (error) => this.#link.handlerFailed(error),
      },
    );
    const record: SubscriptionRecord = {
      subscription,
      open: undefined,
      stream: undefined,
      consumer: undefined,
      prefetch,
      consumedSinceGrant: 0,
    };
    this.#subscriptions.set(id, record);
    const attach = (stream: string, consumer: string): Frame => ({
      kind: 'attach',
      requestId: 0,
      subscriptionId: id,
      stream,
      consumer,
      credit: prefetch,
      creditOnAck: false,
    });
    let setup: Promise<void>;
    if (typeof target !== 'string') {
      record.stream = target.stream;
      record.consumer = target.consumer;
      record.open = attach(target.stream, target.consumer);
      setup = this.#openOn(record);
    } else if (options.durable === undefined) {
      record.open = {
        kind: 'subscribeLive',
        requestId: 0,
        subscriptionId: id,
        filter: target,
        noLocal: options.noLocal ?? false,
        bufferMessagesMax,
        ...(options.queueGroup !== undefined ? { queueGroup: options.queueGroup } : {}),
        ...(options.slowConsumerPolicy !== undefined
          ? { slowConsumerPolicy: options.slowConsumerPolicy }
          : {}),
      };
      setup = this.#openOn(record);
    } else {
      const durable = options.durable;
      setup = this.#link.durableTopic(target, durable).then(({ stream, consumer }) => {
        record.stream = stream;
        record.consumer = consumer;
        record.open = attach(stream, consumer);
        return this.#openOn(record);
      });
    }
    setup.catch((error: unknown) => {
      this.#subscriptions.delete(id);
      subscription.end(error instanceof Error ? error : new Error(String(error)));
    });
    return subscription;
  }

  /** Re-opens every subscription on a new connection under the same id. */
  restore(connection: Connection): void {
    for (const record of this.#subscriptions.values()) {
      if (record.open !== undefined) this.#resubscribe(connection, record);
    }
  }

  /** The connection is lost: messages not yet handed to the application are dropped (the broker redelivers them). */
  dropQueued(): void {
    for (const record of this.#subscriptions.values()) record.subscription.dropQueued();
  }

  /** Ends every subscription with `error`. */
  endAll(error: WeirError): void {
    for (const record of this.#subscriptions.values()) record.subscription.end(error);
    this.#subscriptions.clear();
  }

  /** DELIVER: stream messages for a consumer subscription. */
  deliver(frame: Extract<Frame, { kind: 'deliver' }>): void {
    const record = this.#subscriptions.get(frame.subscriptionId);
    if (record === undefined || record.stream === undefined || record.consumer === undefined) return;
    const { stream, consumer } = record;
    const connectionEpoch = this.#link.epoch();
    record.subscription.enqueue(
      streamMessages(frame.deliveries, { stream, consumer, connectionEpoch }, this.#link.settler),
    );
  }

  /** LIVE_DELIVER: messages for a live subscription. */
  liveDeliver(frame: Extract<Frame, { kind: 'liveDeliver' }>): void {
    const record = this.#subscriptions.get(frame.subscriptionId);
    if (record === undefined) return;
    if (frame.droppedCount !== undefined) record.subscription.droppedByBroker(frame.droppedCount);
    record.subscription.enqueue(frame.messages.map((message) => new NetworkMessage(message)));
  }

  /** SUBSCRIPTION_CLOSED: the broker ended a subscription. */
  closedByBroker(frame: Extract<Frame, { kind: 'subscriptionClosed' }>): void {
    const record = this.#subscriptions.get(frame.subscriptionId);
    if (record === undefined) return;
    this.#subscriptions.delete(frame.subscriptionId);
    record.subscription.end(
      frame.error === undefined
        ? undefined
        : new WeirError(frame.error.code as ErrorCode, frame.error.message),
    );
  }

  /** Opens a subscription on the current connection (or the next one). */
  async #openOn(record: SubscriptionRecord): Promise<void> {
    const connection = await this.#link.whenConnected();
    if (record.subscription.ended || record.open === undefined) return;
    record.consumedSinceGrant = 0;
    try {
      await connection.request({ ...record.open, requestId: connection.newRequestId() });
    } catch (error) {
      // A lost connection restores the subscription when the next one opens.
      if (connection.closed && !this.#link.closed()) return;
      throw error;
    }
  }

  #resubscribe(connection: Connection, record: SubscriptionRecord): void {
    record.consumedSinceGrant = 0;
    connection
      .request({ ...(record.open as Frame), requestId: connection.newRequestId() })
      .catch((error: WeirError) => {
        if (connection.closed) return;
        // The consumer is gone or refused us: end the subscription with the broker's reason.
        this.#subscriptions.delete(record.subscription.id);
        record.subscription.end(error);
      });
  }

  #detach(subscription: NetworkSubscription): void {
    const record = this.#subscriptions.get(subscription.id);
    if (record === undefined) return;
    this.#subscriptions.delete(subscription.id);
    const connection = this.#link.connection();
    if (connection === undefined || record.open === undefined) return;
    this.#link.flushSettles();
    connection.request({ kind: 'detach', requestId: 0, subscriptionId: subscription.id }).catch(() => {
      // Detaching from a lost connection or an already-closed subscription: nothing is left to release.
    });
  }

  #consumed(subscription: NetworkSubscription, count: number): void {
    const record = this.#subscriptions.get(subscription.id);
    if (record === undefined || subscription.kind !== 'push') return;
    record.consumedSinceGrant += count;
    if (record.consumedSinceGrant < Math.max(1, Math.floor(record.prefetch / 2))) return;
    const credit = record.consumedSinceGrant;
    record.consumedSinceGrant = 0;
    this.#link.connection()?.send({ kind: 'credit', requestId: 0, subscriptionId: subscription.id, credit });
  }
}
