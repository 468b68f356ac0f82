// The in-process client: the Client API (types.ts) over a BrokerCore session, with no socket
// and no encoding. `Broker.connect()` returns one.

import { InvalidArgumentError } from '../common/errors.js';
import type { Attachment, CoreSession, PublishAck, PublishInput } from '../core/api.js';
import type { BrokerCore } from '../core/broker.js';
import { ensureDurableSubscription, ensureQueue, queueOptions } from '../core/destinations.js';
import { InProcessTransaction } from './in-process-transaction.js';
import { LiveMessage, StreamMessage } from './received-message.js';
import { ClientSubscription } from './subscription.js';
import type {
  Admin,
  Body,
  Client,
  ClientTransaction,
  ConsumerTarget,
  FetchOptions,
  PublishOptions,
  QueueInfo,
  ReceivedMessage,
  RequestOptions,
  StreamConfigInput,
  SubscribeOptions,
  Subscription,
  TemporaryQueue,
  TopicSubscribeOptions,
  TransactionOptions,
} from './types.js';

const prefetchDefault = 256;
const liveBufferDefault = 1_000;
/** As the network client. */
const requestTimeoutMsDefault = 5_000;

export class InProcessClient implements Client {
  readonly #core: BrokerCore;
  readonly #session: CoreSession;
  readonly #subscriptions = new Set<ClientSubscription>();
  readonly admin: Admin;
  #closed = false;

  constructor(core: BrokerCore, onClose?: (client: InProcessClient) => void) {
    this.#core = core;
    this.#session = core.openSession();
    this.#onClose = onClose;
    this.admin = {
      addStream: (config) => core.addStream(config),
      updateStream: (config) => core.updateStream(config),
      deleteStream: (name) => core.deleteStream(name),
      streamInfo: (name) => call(() => core.streamInfo(name)),
      listStreams: () => call(() => core.listStreams()),
      addConsumer: (stream, config) => core.addConsumer(stream, config),
      deleteConsumer: (stream, name) => core.deleteConsumer(stream, name),
      consumerInfo: (stream, name) => call(() => core.consumerInfo(stream, name)),
      listConsumers: (stream) => call(() => core.listConsumers(stream)),
      redrive: (stream, selection) => core.redrive(stream, selection),
    };
  }

  readonly #onClose: ((client: InProcessClient) => void) | undefined;

  publish(subject: string, body: Body = '', options: PublishOptions = {}): void {
    this.#session.publish(publishInput(subject, body, options));
  }

  publishConfirmed(subject: string, body: Body = '', options: PublishOptions = {}): Promise<PublishAck> {
    return this.#session.publishConfirmed(publishInput(subject, body, options));
  }

  subscribe(topic: string, options?: TopicSubscribeOptions): Subscription;
  subscribe(target: ConsumerTarget, options?: SubscribeOptions): Subscription;
  subscribe(target: string | ConsumerTarget, options: TopicSubscribeOptions = {}): Subscription {
    if (typeof target !== 'string') return this.#attach(target, options);
    if (options.durable !== undefined) return this.#durableTopic(target, options.durable, options);
    return this.#live(target, options);
  }

  async fetch(target: ConsumerTarget, options: FetchOptions = {}): Promise<ReceivedMessage[]> {
    const deliveries = await this.#session.fetch(target.stream, target.consumer, {
      batch: options.batch ?? 1,
      expiresMs: options.expiresMs ?? 5_000,
    });
    return deliveries.map((delivery) => new StreamMessage(delivery, this.#session));
  }

  ack(message: ReceivedMessage): void {
    message.ack();
  }

  nack(message: ReceivedMessage, options?: { delayMs?: number; reason?: string }): void {
    message.nack(options);
  }

  term(message: ReceivedMessage, reason?: string): void {
    message.term(reason);
  }

  /** Queue `name` (src/core/destinations.ts): the same queue STOMP `/queue/<name>` and JMS reach. */
  async createQueue(
    name: string,
    options: Partial<Omit<StreamConfigInput, 'name' | 'subjects'>> = {},
  ): Promise<QueueInfo> {
    const queue = await ensureQueue(this.#core, name, queueOptions(options));
    return { stream: queue.streamInfo, consumer: queue.consumerInfo };
  }

  async request(subject: string, body: Body = '', options: RequestOptions = {}): Promise<ReceivedMessage> {
    const { timeoutMs = requestTimeoutMsDefault, ...publish } = options;
    const reply = await this.#session.request(subject, body, { ...publish, timeoutMs });
    return new LiveMessage(reply);
  }

  beginTransaction(options: TransactionOptions = {}): ClientTransaction {
    return new InProcessTransaction(this.#session.beginTransaction(options));
  }

  createTemporaryTopic(): Promise<string> {
    return call(() => this.#session.createTemporaryTopic());
  }

  createTemporaryQueue(): Promise<TemporaryQueue> {
    return this.#session.createTemporaryQueue();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const subscription of [...this.#subscriptions]) await subscription.close();
    await this.#session.close();
    this.#onClose?.(this);
  }

  #attach(target: ConsumerTarget, options: SubscribeOptions): Subscription {
    const prefetch = options.prefetch ?? prefetchDefault;
    if (!Number.isSafeInteger(prefetch) || prefetch < 1)
      throw new InvalidArgumentError('prefetch must be a positive integer');
    const ackPolicy = this.#core.consumerInfo(target.stream, target.consumer).config.ackPolicy;
    const holder: { attachment?: Attachment; owedCredit: number } = { owedCredit: 0 };
    const subscription = this.#track(
      new ClientSubscription({
        callback: options.callback,
        onError: options.onError,
        stop: () => holder.attachment?.close(),
      }),
    );
    // With ack policy none nothing comes back to return credit: grant it as messages are handed over.
    const creditOnAck = ackPolicy === 'explicit';
    holder.attachment = this.#session.attach(target.stream, target.consumer, {
      credit: prefetch,
      creditOnAck,
      onDelivery: (delivery) => {
        subscription.push(new StreamMessage(delivery, this.#session));
        if (creditOnAck) return;
        if (holder.attachment === undefined) holder.owedCredit += 1;
        else holder.attachment.grant(1);
      },
      onClosed: (error) => subscription.end(error),
    });
    if (holder.owedCredit > 0) holder.attachment.grant(holder.owedCredit);
    return subscription;
  }

  #live(filter: string, options: TopicSubscribeOptions): Subscription {
    const bufferMessagesMax = options.bufferMessagesMax ?? liveBufferDefault;
    const holder: { live?: { close(): void } } = {};
    const subscription = this.#track(
      new ClientSubscription({
        callback: options.callback,
        onError: options.onError,
        bufferMessagesMax,
        slowConsumerPolicy: options.slowConsumerPolicy ?? 'drop_oldest',
        stop: () => holder.live?.close(),
      }),
    );
    holder.live = this.#session.subscribeLive(filter, {
      bufferMessagesMax,
      slowConsumerPolicy: options.slowConsumerPolicy ?? 'drop_oldest',
      ...(options.queueGroup === undefined ? {} : { queueGroup: options.queueGroup }),
      ...(options.noLocal === undefined ? {} : { noLocal: options.noLocal }),
      onMessage: (message) => subscription.push(new LiveMessage(message)),
      onClosed: (error) => subscription.end(error),
    });
    return subscription;
  }

  /** A durable consumer on the interest stream that captures the topic (created on first use). */
  #durableTopic(topic: string, durable: string, options: TopicSubscribeOptions): Subscription {
    let inner: Subscription | undefined;
    const outer = this.#track(
      new ClientSubscription({
        callback: undefined,
        onError: options.onError,
        stop: () => void inner?.close(),
      }),
    );
    const setup = async (): Promise<void> => {
      const { stream, consumer } = await ensureDurableSubscription(this.#core, {
        topicFilter: topic,
        subscriptionName: durable,
        dispatch: 'shared',
      });
      inner = this.#attach({ stream, consumer }, options);
      this.#subscriptions.delete(inner as ClientSubscription);
      if (options.callback === undefined) {
        for await (const message of inner) outer.push(message);
      }
      await inner.closed;
      outer.end();
    };
    setup().catch((error: unknown) => outer.end(error instanceof Error ? error : new Error(String(error))));
    return outer;
  }

  #track(subscription: ClientSubscription): ClientSubscription {
    this.#subscriptions.add(subscription);
    void subscription.closed.finally(() => this.#subscriptions.delete(subscription)).catch(() => undefined);
    return subscription;
  }
}

function publishInput(subject: string, body: Body, options: PublishOptions): PublishInput {
  return { ...options, subject, body };
}

function call<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
