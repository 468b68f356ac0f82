// The client API Weir users write their code against. Two implementations share it: the
// in-process client (in-process-client.ts, from `Broker.connect()`, no socket) and the
// network client over the native protocol. Shaped like nats.js: publish and subscribe on
// subjects, async iterators or callbacks, explicit acknowledgement, administration.
//
// Delivery guarantees a user can rely on:
// - a callback handler that returns (or resolves) acks its message; one that throws (or
//   rejects) nacks it with the error text as the reason, so it is redelivered and, past
//   max deliveries, dead-lettered with that text. A failed message is never acked.
// - messages from an async iterator are acked by the code that reads them (`message.ack()`);
//   leaving the loop closes the subscription and its unacked messages are redelivered.

import type {
  AckOutcome,
  ConsumerConfigInput,
  ConsumerInfo,
  Headers,
  PublishAck,
  RedriveResult,
  RedriveSelection,
  SlowConsumerPolicy,
  StreamConfigInput,
  StreamInfo,
} from '../core/api.js';

export type {
  AckOutcome,
  ConsumerConfigInput,
  ConsumerInfo,
  PublishAck,
  RedriveResult,
  RedriveSelection,
  StreamConfigInput,
  StreamInfo,
};

export type Body = Buffer | Uint8Array | string;

export interface PublishOptions {
  /** Partition key, and the key of key_shared dispatch. */
  readonly key?: string;
  readonly headers?: Headers;
  /** A message id; default a time-ordered unique id. */
  readonly id?: string;
  /** 0–9, default 4. */
  readonly priority?: number;
  readonly ttlMs?: number;
  readonly delayMs?: number;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly contentType?: string;
  readonly persistent?: boolean;
}

/** A message as a subscriber receives it. */
export interface ReceivedMessage {
  readonly subject: string;
  readonly body: Buffer;
  readonly headers: Headers;
  readonly key: string | undefined;
  readonly id: string;
  readonly timestampMs: number;
  readonly priority: number;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly contentType: string | undefined;
  /** Stream, consumer, partition and offset for stream deliveries; undefined for live ones. */
  readonly stream: string | undefined;
  readonly consumer: string | undefined;
  readonly partition: number | undefined;
  readonly offset: number | undefined;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** The body as UTF-8 text. */
  string(): string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
  /**
   * Settles the delivery. Fire-and-forget; an ack for an attempt that was already
   * redelivered (its ack wait passed) is rejected by the broker and counted, never applied
   * to the newer attempt: use `ackConfirmed` to learn the outcome. Live (non-durable topic)
   * messages need no acknowledgement: these calls do nothing for them.
   */
  ack(): void;
  ackConfirmed(): Promise<AckOutcome>;
  /** Redeliver later: after `delayMs`, or the consumer's backoff schedule. */
  nack(options?: { delayMs?: number; reason?: string }): void;
  /** Reject for good: dead-lettered with reason `rejected`. */
  term(reason?: string): void;
}

export type MessageHandler = (message: ReceivedMessage) => void | Promise<void>;

export interface SubscribeOptions {
  /** Handle each message with this; otherwise iterate the subscription. */
  readonly callback?: MessageHandler;
  /** Deliveries the client holds at once (the credit it grants). Default 256. */
  readonly prefetch?: number;
  /** Called after a handler failure (the message was nacked) or when the subscription ends with an error. */
  readonly onError?: (error: Error, message: ReceivedMessage | undefined) => void;
}

export interface TopicSubscribeOptions extends SubscribeOptions {
  /**
   * A durable subscription with this name: a durable consumer on an interest stream that
   * captures the topic (created on first use), which keeps messages while the subscriber is
   * away. Without it, a live subscription: at-most-once, nothing stored.
   */
  readonly durable?: string;
  /** Live subscriptions: members of one group share the messages. */
  readonly queueGroup?: string;
  /** Live subscriptions: buffered messages before the slow-consumer policy applies. */
  readonly bufferMessagesMax?: number;
  readonly slowConsumerPolicy?: SlowConsumerPolicy;
  /** Live subscriptions: skip messages this client published. */
  readonly noLocal?: boolean;
}

export interface ConsumerTarget {
  readonly stream: string;
  readonly consumer: string;
}

export interface Subscription extends AsyncIterable<ReceivedMessage> {
  /** Messages handed to the application so far. */
  readonly received: number;
  /** Handler failures (each nacked). */
  readonly failures: number;
  /**
   * Live subscriptions: messages dropped under `drop_oldest` because the subscriber fell
   * behind, by the broker or by the client. Always 0 for stream subscriptions.
   */
  readonly dropped: number;
  /** Resolves when the subscription ends: rejects if it ended with an error. */
  readonly closed: Promise<void>;
  /** Stops delivery; unacked stream messages are redelivered. */
  close(): Promise<void>;
}

export interface FetchOptions {
  /** At most this many messages. Default 1. */
  readonly batch?: number;
  /** Wait up to this long for the first message. Default 5000. */
  readonly expiresMs?: number;
}

export interface QueueInfo {
  readonly stream: StreamInfo;
  readonly consumer: ConsumerInfo;
}

export interface Admin {
  addStream(config: StreamConfigInput): Promise<StreamInfo>;
  updateStream(config: StreamConfigInput): Promise<StreamInfo>;
  deleteStream(name: string): Promise<boolean>;
  streamInfo(name: string): Promise<StreamInfo>;
  listStreams(): Promise<StreamInfo[]>;
  addConsumer(stream: string, config: ConsumerConfigInput): Promise<ConsumerInfo>;
  deleteConsumer(stream: string, name: string): Promise<boolean>;
  consumerInfo(stream: string, name: string): Promise<ConsumerInfo>;
  listConsumers(stream: string): Promise<ConsumerInfo[]>;
  /** Republishes chosen dead letters of a dead-letter stream to their original subjects. */
  redrive(deadLetterStream: string, selection?: RedriveSelection): Promise<RedriveResult>;
}

/** Options of a request: a publish's, without reply-to (the broker sets it), and a timeout. */
export type RequestOptions = Omit<PublishOptions, 'replyTo'> & {
  /** Fail with WEIR_TIMEOUT when no reply came within this long. Default 5,000. */
  readonly timeoutMs?: number;
};

/**
 * Publishes and acks applied together or not at all, across streams. Nothing is visible to
 * consumers before `commit`; `abort` discards the publishes and returns the acked messages
 * to their consumer for redelivery.
 */
export interface ClientTransaction {
  /** Buffers a message; it is stored only if the transaction commits. */
  publish(subject: string, body?: Body, options?: PublishOptions): void;
  /** Acks a stream message when the transaction commits (nothing else acks it meanwhile). */
  ack(message: ReceivedMessage): void;
  /** Applies everything at once; resolves with where each published message was stored. */
  commit(): Promise<PublishAck[]>;
  /** Discards the publishes; the messages it acked are redelivered. */
  abort(): Promise<void>;
}

export interface TransactionOptions {
  /** The broker aborts a transaction not committed within this long. Default: the broker's. */
  readonly timeoutMs?: number;
}

/** A queue owned by this client's connection: deleted, with its messages, when it closes. */
export interface TemporaryQueue {
  /** Publish here to enqueue. */
  readonly subject: string;
  /** Subscribe to or fetch from this target. */
  readonly stream: string;
  readonly consumer: string;
}

export interface Client {
  /** Fire-and-forget: stored by the stream that captures the subject (if any) and sent to live subscribers. */
  publish(subject: string, body?: Body, options?: PublishOptions): void;
  /** Resolves once the message is durable; rejects WEIR_NO_STREAM when no stream captures the subject. */
  publishConfirmed(subject: string, body?: Body, options?: PublishOptions): Promise<PublishAck>;
  /** A topic subscription (live, or durable with `durable`), or an attachment to a stream consumer. */
  subscribe(topic: string, options?: TopicSubscribeOptions): Subscription;
  subscribe(target: ConsumerTarget, options?: SubscribeOptions): Subscription;
  /** Pulls up to `batch` messages from a consumer, waiting up to `expiresMs` for the first. */
  fetch(target: ConsumerTarget, options?: FetchOptions): Promise<ReceivedMessage[]>;
  ack(message: ReceivedMessage): void;
  nack(message: ReceivedMessage, options?: { delayMs?: number; reason?: string }): void;
  term(message: ReceivedMessage, reason?: string): void;
  /**
   * A point-to-point queue: a workqueue stream on subject `name` and its shared durable
   * consumer, idempotent. Stream and consumer are named `encodeName(name)` as for every
   * protocol (src/core/destinations.ts: `orders.eu` → `orders_2eeu`); attach to the names returned.
   */
  createQueue(
    name: string,
    options?: Partial<Omit<StreamConfigInput, 'name' | 'subjects'>>,
  ): Promise<QueueInfo>;
  /**
   * Publishes a request with a reply subject in this client's inbox and resolves with the
   * first reply; fails with WEIR_NO_RESPONDERS when nothing took it, WEIR_TIMEOUT after
   * `timeoutMs`. A responder answers by publishing to `message.replyTo`.
   */
  request(subject: string, body?: Body, options?: RequestOptions): Promise<ReceivedMessage>;
  /** Begins a transaction (see ClientTransaction). */
  beginTransaction(options?: TransactionOptions): ClientTransaction;
  /** A topic subject for live subscriptions, owned by this client's connection. */
  createTemporaryTopic(): Promise<string>;
  /** A queue owned by this client's connection, deleted when it closes (or is lost). */
  createTemporaryQueue(): Promise<TemporaryQueue>;
  readonly admin: Admin;
  /** Closes every subscription (unacked messages are redelivered) and the connection. */
  close(): Promise<void>;
}
