// ReceivedMessage for the in-process client: a stream delivery (settled through the core
// session) or a live message (nothing to settle).

import type { AckOutcome, CoreSession, Delivery, Message } from '../core/api.js';
import type { ReceivedMessage } from './types.js';

abstract class BaseMessage implements ReceivedMessage {
  readonly #message: Message;
  /** Set once the application (or the subscription on its behalf) settled the message. */
  settled = false;

  constructor(message: Message) {
    this.#message = message;
  }

  get subject(): string {
    return this.#message.subject;
  }
  get body(): Buffer {
    return this.#message.body;
  }
  get headers(): Message['headers'] {
    return this.#message.headers;
  }
  get key(): string | undefined {
    return this.#message.key;
  }
  get id(): string {
    return this.#message.id;
  }
  get timestampMs(): number {
    return this.#message.timestampMs;
  }
  get priority(): number {
    return this.#message.priority;
  }
  get correlationId(): string | undefined {
    return this.#message.correlationId;
  }
  get replyTo(): string | undefined {
    return this.#message.replyTo;
  }
  get contentType(): string | undefined {
    return this.#message.contentType;
  }

  string(): string {
    return this.#message.body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.string()) as T;
  }

  abstract readonly stream: string | undefined;
  abstract readonly consumer: string | undefined;
  abstract readonly partition: number | undefined;
  abstract readonly offset: number | undefined;
  abstract readonly deliveryCount: number;
  abstract readonly redelivered: boolean;
  abstract ack(): void;
  abstract ackConfirmed(): Promise<AckOutcome>;
  abstract nack(options?: { delayMs?: number; reason?: string }): void;
  abstract term(reason?: string): void;
}

export class StreamMessage extends BaseMessage {
  readonly delivery: Delivery;
  readonly #session: CoreSession;
  readonly #onSettled: (() => void) | undefined;

  constructor(delivery: Delivery, session: CoreSession, onSettled?: () => void) {
    super(delivery.message);
    this.delivery = delivery;
    this.#session = session;
    this.#onSettled = onSettled;
  }

  get stream(): string {
    return this.delivery.stream;
  }
  get consumer(): string {
    return this.delivery.consumer;
  }
  get partition(): number {
    return this.delivery.partition;
  }
  get offset(): number {
    return this.delivery.offset;
  }
  get deliveryCount(): number {
    return this.delivery.deliveryCount;
  }
  get redelivered(): boolean {
    return this.delivery.redelivered;
  }

  ack(): void {
    this.#settle(() => this.#session.ack(this.delivery));
  }

  ackConfirmed(): Promise<AckOutcome> {
    try {
      return Promise.resolve(this.#settle(() => this.#session.ack(this.delivery)));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  nack(options: { delayMs?: number; reason?: string } = {}): void {
    this.#settle(() => this.#session.nack(this.delivery, options));
  }

  term(reason?: string): void {
    this.#settle(() => this.#session.term(this.delivery, reason));
  }

  #settle(action: () => AckOutcome): AckOutcome {
    const outcome = action();
    if (!this.settled) {
      this.settled = true;
      this.#onSettled?.();
    }
    return outcome;
  }
}

export class LiveMessage extends BaseMessage {
  readonly stream = undefined;
  readonly consumer = undefined;
  readonly partition = undefined;
  readonly offset = undefined;
  readonly deliveryCount = 1;
  readonly redelivered = false;

  // A live message is at-most-once: there is nothing to acknowledge.
  ack(): void {
    this.settled = true;
  }
  ackConfirmed(): Promise<AckOutcome> {
    this.settled = true;
    return Promise.resolve('acked');
  }
  nack(): void {
    this.settled = true;
  }
  term(): void {
    this.settled = true;
  }
}
