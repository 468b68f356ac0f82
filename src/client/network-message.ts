// A message as the network client hands it to an application: the core's message fields,
// where it came from (stream, consumer, partition, offset, attempt), and ack/nack/term.

import type { Headers, NackOptions } from '../core/api.js';
import type { WireMessage } from '../protocols/native/codec/index.js';

/** What a received message reports back through; implemented by NetworkClient. */
export interface Settler {
  settle(message: ReceivedMessage, kind: 'ack' | 'nack' | 'term', options?: NackOptions | string): void;
}

export class ReceivedMessage {
  readonly subject: string;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly id: string;
  readonly timestampMs: number;
  readonly priority: number;
  readonly expiresAtMs: number | undefined;
  readonly deliverAfterMs: number | undefined;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly contentType: string | undefined;
  readonly persistent: boolean;
  /** Undefined for a message of a live (non-durable) subscription, which takes no ack. */
  readonly stream: string | undefined;
  readonly consumer: string | undefined;
  readonly partition: number;
  readonly offset: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** Which connection delivered it: an ack through a later connection would be stale. */
  readonly connectionEpoch: number;
  #settler: Settler | undefined;
  #settled = false;

  constructor(
    message: WireMessage,
    origin: {
      readonly stream: string | undefined;
      readonly consumer: string | undefined;
      readonly partition: number;
      readonly offset: number;
      readonly deliveryCount: number;
      readonly redelivered: boolean;
      readonly connectionEpoch: number;
    },
    settler: Settler | undefined,
  ) {
    this.subject = message.subject;
    this.key = message.key;
    this.headers = message.headers;
    this.body = message.body;
    this.id = message.id;
    this.timestampMs = message.timestampMs;
    this.priority = message.priority;
    this.expiresAtMs = message.expiresAtMs;
    this.deliverAfterMs = message.deliverAfterMs;
    this.correlationId = message.correlationId;
    this.replyTo = message.replyTo;
    this.contentType = message.contentType;
    this.persistent = message.persistent;
    this.stream = origin.stream;
    this.consumer = origin.consumer;
    this.partition = origin.partition;
    this.offset = origin.offset;
    this.deliveryCount = origin.deliveryCount;
    this.redelivered = origin.redelivered;
    this.connectionEpoch = origin.connectionEpoch;
    this.#settler = settler;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return this.body.toString('utf8');
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /** True once ack, nack or term was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Acknowledges: the broker will not deliver it again. Sent batched with others of this tick. */
  ack(): void {
    this.#settle('ack');
  }

  /** Asks for redelivery, after `delayMs` if given; `reason` is kept for dead-letter headers. */
  nack(options?: NackOptions): void {
    this.#settle('nack', options);
  }

  /** Rejects for good: the broker dead-letters it. */
  term(reason?: string): void {
    this.#settle('term', reason);
  }

  #settle(kind: 'ack' | 'nack' | 'term', options?: NackOptions | string): void {
    if (this.#settled || this.#settler === undefined) return;
    this.#settled = true;
    this.#settler.settle(this, kind, options);
  }
}
