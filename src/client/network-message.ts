// ReceivedMessage (types.ts) for the network client: the message fields, where it came
// from, and ack/nack/term, which NetworkClient batches into one frame per consumer per tick.

import type { AckOutcome, Headers } from '../core/api.js';
import type { WireDelivery, WireMessage } from '../protocols/native/codec/index.js';
import type { ReceivedMessage } from './types.js';

export type SettleKind = 'ack' | 'nack' | 'term';

/** Where a stream message reports its settlement; implemented by NetworkClient. */
export interface Settler {
  settle(
    message: NetworkMessage,
    kind: SettleKind,
    options: { delayMs?: number; reason?: string } | undefined,
  ): void;
  settleConfirmed(message: NetworkMessage): Promise<AckOutcome>;
}

export interface MessageOrigin {
  readonly stream: string;
  readonly consumer: string;
  readonly partition: number;
  readonly offset: number;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** Which connection delivered it: an ack through a later connection would be stale. */
  readonly connectionEpoch: number;
}

export class NetworkMessage implements ReceivedMessage {
  readonly #message: WireMessage;
  readonly #origin: MessageOrigin | undefined;
  readonly #settler: Settler | undefined;
  /** Set once the application (or the subscription on its behalf) settled the message. */
  settled = false;

  /** A stream delivery with `origin` and `settler`; a live message without. */
  constructor(message: WireMessage, origin?: MessageOrigin, settler?: Settler) {
    this.#message = message;
    this.#origin = origin;
    this.#settler = settler;
  }

  get subject(): string {
    return this.#message.subject;
  }
  get body(): Buffer {
    return this.#message.body;
  }
  get headers(): Headers {
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
  get expiresAtMs(): number | undefined {
    return this.#message.expiresAtMs;
  }
  get deliverAfterMs(): number | undefined {
    return this.#message.deliverAfterMs;
  }
  get persistent(): boolean {
    return this.#message.persistent;
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
  get stream(): string | undefined {
    return this.#origin?.stream;
  }
  get consumer(): string | undefined {
    return this.#origin?.consumer;
  }
  get partition(): number | undefined {
    return this.#origin?.partition;
  }
  get offset(): number | undefined {
    return this.#origin?.offset;
  }
  get deliveryCount(): number {
    return this.#origin?.deliveryCount ?? 1;
  }
  get redelivered(): boolean {
    return this.#origin?.redelivered ?? false;
  }
  get connectionEpoch(): number {
    return this.#origin?.connectionEpoch ?? 0;
  }

  string(): string {
    return this.#message.body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.string()) as T;
  }

  ack(): void {
    this.#settle('ack', undefined);
  }

  ackConfirmed(): Promise<AckOutcome> {
    if (this.#settler === undefined) {
      this.settled = true;
      return Promise.resolve('acked');
    }
    this.settled = true;
    return this.#settler.settleConfirmed(this);
  }

  nack(options?: { delayMs?: number; reason?: string }): void {
    this.#settle('nack', options);
  }

  term(reason?: string): void {
    this.#settle('term', reason === undefined ? undefined : { reason });
  }

  #settle(kind: SettleKind, options: { delayMs?: number; reason?: string } | undefined): void {
    // A live message is at-most-once: there is nothing to settle.
    if (this.settled) return;
    this.settled = true;
    this.#settler?.settle(this, kind, options);
  }
}

/** Stream deliveries of `consumer` as messages that settle through `settler`. */
export function streamMessages(
  deliveries: readonly WireDelivery[],
  target: { readonly stream: string; readonly consumer: string; readonly connectionEpoch: number },
  settler: Settler,
): NetworkMessage[] {
  const { stream, consumer, connectionEpoch } = target;
  return deliveries.map(
    (delivery) =>
      new NetworkMessage(
        delivery.message,
        {
          stream,
          consumer,
          partition: delivery.partition,
          offset: delivery.offset,
          deliveryCount: delivery.deliveryCount,
          redelivered: delivery.redelivered,
          connectionEpoch,
        },
        settler,
      ),
  );
}
