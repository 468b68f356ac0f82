// One client's view of the broker (a connection, or an in-process client): see api.ts.
// Everything the session owns — attachments, pending fetches, live subscriptions, unacked
// deliveries — is released when it closes, and its unacked deliveries are redelivered.

import type { Clock } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type {
  AckOptions,
  AckOutcome,
  Attachment,
  AttachOptions,
  CoreSession,
  Delivery,
  LiveSubscribeOptions,
  LiveSubscription,
  Message,
  NackOptions,
  ProducerIdentity,
  PublishAck,
  PublishConfirmCallback,
  PublishInput,
  RequestOptions,
  TemporaryQueue,
  Transaction,
  TransactionOptions,
} from './api.js';
import type { Receiver } from './consumer-partition.js';
import type { Consumer } from './consumer.js';
import type { LiveRouter } from './live-router.js';
import { Inbox } from './request-reply.js';

/** What a session needs from the broker. */
export interface SessionHost {
  readonly clock: Clock;
  readonly liveRouter: LiveRouter;
  /** Returns how many took it: a capturing stream counts one, plus each live subscriber. */
  publish(input: PublishInput, sessionId: string): number;
  publishConfirmed(input: PublishInput, sessionId: string): Promise<PublishAck>;
  publishConfirmedThen(input: PublishInput, sessionId: string, done: PublishConfirmCallback): void;
  consumer(stream: string, name: string): Consumer;
  onSessionClosed(session: Session): void;
  initProducer(name: string | undefined): Promise<ProducerIdentity>;
  addTemporaryQueue(stream: string, subject: string): Promise<void>;
  beginTransaction(sessionId: string, options: TransactionOptions | undefined): Transaction;
  abortTransactions(sessionId: string): Promise<void>;
  deleteTemporaryQueue(stream: string): Promise<void>;
}

export class Session implements CoreSession {
  readonly id: string;
  readonly clientId: string | undefined;
  readonly #host: SessionHost;
  /** Consumers this session attached to or fetched from, made on first use (most MQTT and
   * STOMP connections never use one, and an idle connection should cost little memory). */
  #consumers: Set<Consumer> | undefined;
  /** core2: request-reply and temporary destinations (request-reply.ts), made on first use. */
  #inbox: Inbox | undefined;
  #closed = false;

  constructor(host: SessionHost, id: string, clientId: string | undefined) {
    this.#host = host;
    this.id = id;
    this.clientId = clientId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  publish(input: PublishInput): void {
    this.#assertOpen();
    this.#host.publish(input, this.id);
  }

  publishConfirmed(input: PublishInput): Promise<PublishAck> {
    if (this.#closed) return Promise.reject(closedError());
    try {
      return this.#host.publishConfirmed(input, this.id);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  publishConfirmedThen(input: PublishInput, done: PublishConfirmCallback): void {
    if (this.#closed) {
      queueMicrotask(() => done(closedError(), undefined));
      return;
    }
    this.#host.publishConfirmedThen(input, this.id, done);
  }

  attach(stream: string, consumerName: string, options: AttachOptions): Attachment {
    this.#assertOpen();
    checkCount('credit', options.credit, 0, Limits.attachCreditMax);
    const consumer = this.#host.consumer(stream, consumerName);
    const receiver: Receiver = {
      id: consumer.newReceiverId(),
      sessionId: this.id,
      kind: 'push',
      credit: options.credit,
      creditOnAck: options.creditOnAck ?? true,
      closed: false,
      deliver: (delivery) => {
        try {
          options.onDelivery(delivery);
        } catch (error) {
          // The client's callback failed: detach it (its deliveries are redelivered) and tell it why.
          queueMicrotask(() => {
            consumer.removeReceiver(receiver, true);
            options.onClosed?.(error instanceof Error ? error : new Error(String(error)));
          });
        }
      },
      onClosed: (error) => options.onClosed?.(error),
    };
    consumer.addReceiver(receiver);
    (this.#consumers ??= new Set()).add(consumer);
    return {
      grant: (credit: number) => {
        checkCount('credit', credit, 0, Limits.attachCreditMax);
        if (receiver.closed) return;
        receiver.credit = Math.min(Limits.attachCreditMax, receiver.credit + credit);
        consumer.dispatch();
      },
      close: () => consumer.removeReceiver(receiver, true),
    };
  }

  fetch(
    stream: string,
    consumerName: string,
    options: { batch: number; expiresMs: number },
  ): Promise<Delivery[]> {
    if (this.#closed) return Promise.reject(closedError());
    try {
      checkCount('batch', options.batch, 1, Limits.fetchBatchMax);
      checkCount('expiresMs', options.expiresMs, 0, Limits.fetchWaitMsMax);
      const consumer = this.#host.consumer(stream, consumerName);
      (this.#consumers ??= new Set()).add(consumer);
      return new Promise((resolve, reject) => {
        const deliveries: Delivery[] = [];
        let done = false;
        const finish = (error?: Error): void => {
          if (done) return;
          done = true;
          timer?.cancel();
          consumer.removeReceiver(waiter, false);
          // The consumer went away while waiting: say so, unless messages were already handed over.
          if (error !== undefined && deliveries.length === 0) reject(error);
          else resolve(deliveries);
        };
        const waiter: Receiver = {
          id: consumer.newReceiverId(),
          sessionId: this.id,
          kind: 'pull',
          credit: options.batch,
          creditOnAck: false,
          closed: false,
          deliver: (delivery) => deliveries.push(delivery),
          onClosed: (error) => finish(error),
          settle: () => {
            if (deliveries.length > 0) finish();
          },
        };
        const timer =
          options.expiresMs > 0 ? this.#host.clock.setTimeout(finish, options.expiresMs) : undefined;
        consumer.addReceiver(waiter);
        // No wait: take what the reads already under way bring, then return.
        if (options.expiresMs === 0) void consumer.whenReadsIdle().then(() => finish());
      });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  ack(delivery: Delivery, options?: AckOptions): AckOutcome {
    return this.#host
      .consumer(delivery.stream, delivery.consumer)
      .ack(delivery, options?.cumulative === true);
  }

  nack(delivery: Delivery, options?: NackOptions): AckOutcome {
    return this.#host.consumer(delivery.stream, delivery.consumer).nack(delivery, options);
  }

  term(delivery: Delivery, reason?: string): AckOutcome {
    return this.#host.consumer(delivery.stream, delivery.consumer).term(delivery, reason);
  }

  subscribeLive(filter: string, options: LiveSubscribeOptions): LiveSubscription {
    this.#assertOpen();
    // The live router keeps the session's subscriptions, and closes them with closeSession().
    return this.#host.liveRouter.subscribe(this.id, filter, options);
  }

  initProducer(options?: { readonly name?: string }): Promise<ProducerIdentity> {
    this.#assertOpen();
    return this.#host.initProducer(options?.name);
  }

  request(subject: string, body: PublishInput['body'], options: RequestOptions): Promise<Message> {
    return this.#ownInbox().request(subject, body, options);
  }

  createTemporaryTopic(): string {
    return this.#ownInbox().temporaryTopic();
  }

  createTemporaryQueue(): Promise<TemporaryQueue> {
    return this.#ownInbox().temporaryQueue();
  }

  #ownInbox(): Inbox {
    this.#assertOpen();
    this.#inbox ??= new Inbox({
      clock: this.#host.clock,
      sessionId: this.id,
      publish: (input) => this.#host.publish(input, this.id),
      subscribeLive: (filter, onMessage) => this.subscribeLive(filter, { onMessage }),
      addTemporaryQueue: (stream, subject) => this.#host.addTemporaryQueue(stream, subject),
      deleteTemporaryQueue: (stream) => this.#host.deleteTemporaryQueue(stream),
    });
    return this.#inbox;
  }

  beginTransaction(options?: TransactionOptions): Transaction {
    this.#assertOpen();
    return this.#host.beginTransaction(this.id, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#host.abortTransactions(this.id);
    await this.#inbox?.close();
    this.#closed = true;
    for (const consumer of this.#consumers ?? []) consumer.closeSession(this.id);
    this.#consumers = undefined;
    this.#host.liveRouter.closeSession(this.id);
    this.#host.onSessionClosed(this);
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }
}

function closedError(): WeirError {
  return new WeirError(ErrorCode.Closed, 'session is closed');
}

function checkCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  }
}
