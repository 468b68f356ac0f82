// Transactions (DESIGN.md §1, exactly-once): publish to several streams and ack deliveries
// from several consumers, all or nothing.
//
// Design: a transaction buffers its messages and acks in memory, bounded per transaction
// (Limits.transactionMessagesMax, transactionAcksMax, transactionBytesMax) and across the
// broker (transactionsOpenMax, transactionsBufferedBytesMax). Nothing reaches a stream before
// commit, so consumers see committed messages only without filtering aborted records or
// waiting on open ones. Commit:
//   1. checks that every acked delivery is still the current attempt (one redelivered after
//      its ack wait aborts the transaction: WEIR_TRANSACTION_ABORTED; its output must not be
//      committed, since another client now holds the input);
//   2. writes the whole transaction as one batch to the transaction log
//      (transaction-log.ts) and waits for its fsync: this is the commit point;
//   3. applies it: appends each partition's messages as one idempotent-producer run (the
//      transaction id is the producer id, so a re-application is deduplicated:
//      dedup/producer-state.ts), applies the acks, flushes the consumer-state logs;
//   4. records `applied`.
// After a kill -9 anywhere, a transaction is either absent from the transaction log (nothing
// of it is visible; its acked messages are redelivered, since their acks were never applied)
// or present, and then it is applied again on open, to completion: all or nothing.
//
// Abort (explicit, by timeout, or because the session closed) drops the messages and returns
// the acked deliveries to their consumer (nack: redelivered at once). Delayed messages cannot
// join a transaction (WEIR_NOT_SUPPORTED): they would leave the partition logs that make
// re-application idempotent.

import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type {
  Delivery,
  Message,
  PublishAck,
  PublishInput,
  Transaction,
  TransactionOptions,
  TransactionState,
} from './api.js';
import type { Consumer } from './consumer.js';
import { encodeMessage } from './message-codec.js';
import type { Stream } from './stream.js';
import type { AckRef, CommittedTransaction, TransactionLog, TransactionMessage } from './transaction-log.js';

/** What transactions need from the broker. */
export interface TransactionHost {
  readonly clock: Clock;
  createMessage(input: PublishInput): Message;
  capturing(message: Message): Stream | undefined;
  stream(name: string): Stream | undefined;
  consumer(stream: string, name: string): Consumer | undefined;
  /** Hands committed messages to live subscribers too. */
  publishLive(message: Message, sessionId: string): void;
  onError(error: unknown): void;
}

type State = TransactionState;

export class TransactionCoordinator {
  readonly #host: TransactionHost;
  readonly #log: TransactionLog;
  readonly #open = new Set<SessionTransaction>();
  /** Appends of committed transactions that a stream refused, waiting to be tried again. */
  readonly #retries = new Set<TimerHandle>();
  #closed = false;
  bufferedBytes = 0;
  committed = 0;
  aborted = 0;

  constructor(host: TransactionHost, log: TransactionLog) {
    this.#host = host;
    this.#log = log;
  }

  get host(): TransactionHost {
    return this.#host;
  }

  get openCount(): number {
    return this.#open.size;
  }

  begin(sessionId: string, options: TransactionOptions = {}): SessionTransaction {
    const timeoutMs = options.timeoutMs ?? Limits.transactionTimeoutMsDefault;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > Limits.transactionTimeoutMsMax) {
      throw new InvalidArgumentError(
        `timeoutMs must be an integer from 1 to ${Limits.transactionTimeoutMsMax}`,
      );
    }
    if (this.#open.size >= Limits.transactionsOpenMax) {
      throw new WeirError(ErrorCode.LimitExceeded, `at most ${Limits.transactionsOpenMax} open transactions`);
    }
    const transaction = new SessionTransaction(this, sessionId, timeoutMs);
    this.#open.add(transaction);
    return transaction;
  }

  /** Re-applies commits a crash interrupted (called once at open). */
  async recover(unapplied: readonly CommittedTransaction[]): Promise<void> {
    for (const transaction of unapplied) {
      try {
        await this.apply(transaction, undefined, undefined);
      } catch (error) {
        this.#host.onError(error); // Retried in the background (apply).
        continue;
      }
      await this.#log.appendApplied(transaction.id);
    }
  }

  /** Aborts every open transaction of a session (it closed). */
  async abortSession(sessionId: string): Promise<void> {
    for (const transaction of [...this.#open]) {
      if (transaction.sessionId === sessionId) await transaction.abort('the session closed');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retries) timer.cancel();
    this.#retries.clear();
    for (const transaction of [...this.#open]) await transaction.abort('the broker closed');
    await this.#log.close();
  }

  forget(transaction: SessionTransaction): void {
    this.#open.delete(transaction);
  }

  writeCommit(transaction: CommittedTransaction): Promise<void> {
    return this.#log.appendCommit(transaction);
  }

  writeApplied(id: bigint): Promise<void> {
    return this.#log.appendApplied(id);
  }

  /**
   * Applies a committed transaction: first the acks (through the live deliveries when given,
   * else by offset, as in recovery), made durable; then the messages, skipping sequences
   * already stored, so applying twice is applying once. If a stream refuses the messages
   * (full, closed), the transaction stays committed: the append is retried every second
   * until it succeeds (and on the next open, if the broker stops first), and this rejects
   * to say so.
   */
  async apply(
    transaction: CommittedTransaction,
    deliveries: readonly Delivery[] | undefined,
    sessionId: string | undefined,
  ): Promise<PublishAck[]> {
    await this.#applyAcks(transaction, deliveries);
    try {
      const published = await this.#appendMessages(transaction, sessionId);
      this.committed += 1;
      return published;
    } catch (error) {
      this.#retryAppend(transaction);
      throw new WeirError(
        ErrorCode.Overloaded,
        `transaction ${transaction.id.toString(16)} is committed, but its messages are not appended yet (${
          error instanceof Error ? error.message : String(error)
        }); they will be, once the streams accept them`,
        { cause: error },
      );
    }
  }

  async #applyAcks(
    transaction: CommittedTransaction,
    deliveries: readonly Delivery[] | undefined,
  ): Promise<void> {
    const touched = new Set<Stream>();
    if (deliveries !== undefined) {
      for (const delivery of deliveries) {
        const consumer = this.#host.consumer(delivery.stream, delivery.consumer);
        // Redelivered since commit began (rare; commit checked just before): the committed
        // transaction consumed it all the same.
        if (consumer?.ack(delivery) === 'stale') consumer.ackRecovered(delivery.partition, delivery.offset);
        const stream = this.#host.stream(delivery.stream);
        if (stream !== undefined) touched.add(stream);
      }
    } else {
      for (const ack of transaction.acks) {
        this.#host.consumer(ack.stream, ack.consumer)?.ackRecovered(ack.partition, ack.offset);
        const stream = this.#host.stream(ack.stream);
        if (stream !== undefined) touched.add(stream);
      }
    }
    for (const stream of touched) await stream.stateLog.flush();
  }

  async #appendMessages(
    transaction: CommittedTransaction,
    sessionId: string | undefined,
  ): Promise<PublishAck[]> {
    const stored: Promise<PublishAck>[] = [];
    for (const entry of transaction.messages) {
      const stream = this.#host.stream(entry.stream);
      if (stream === undefined) {
        this.#host.onError(
          new WeirError(
            ErrorCode.StreamNotFound,
            `stream '${entry.stream}' of transaction ${transaction.id} is gone`,
          ),
        );
        continue;
      }
      const last = stream.dedup?.lastSequence(entry.partition, transaction.id, 0) ?? -1;
      if (entry.sequence <= last) continue;
      const stamp = { id: transaction.id, epoch: 0, sequence: entry.sequence };
      stored.push(
        new Promise<PublishAck>((resolve, reject) => {
          stream.publish(
            entry.message,
            (error, partition, offset, duplicate) => {
              if (error !== undefined) reject(error);
              else resolve({ stream: stream.name, partition, offset, duplicate: duplicate === true });
            },
            stamp,
            entry.partition,
          );
        }),
      );
      if (sessionId !== undefined) this.#host.publishLive(entry.message, sessionId);
    }
    return Promise.all(stored);
  }

  #retryAppend(transaction: CommittedTransaction): void {
    if (this.#closed) return;
    const timer = this.#host.clock.setTimeout(() => {
      this.#retries.delete(timer);
      this.#appendMessages(transaction, undefined)
        .then(
          () => {
            this.committed += 1;
            return this.#log.appendApplied(transaction.id);
          },
          (error: unknown) => {
            this.#host.onError(error);
            this.#retryAppend(transaction);
          },
        )
        .catch((error: unknown) => this.#host.onError(error));
    }, 1_000);
    this.#retries.add(timer);
  }
}

export class SessionTransaction implements Transaction {
  readonly id: string;
  readonly sessionId: string;
  readonly #coordinator: TransactionCoordinator;
  readonly #producerId: bigint;
  readonly #messages: TransactionMessage[] = [];
  readonly #deliveries: Delivery[] = [];
  /** Next sequence per `stream/partition`. */
  readonly #sequences = new Map<string, number>();
  #bytes = 0;
  #state: State = 'open';
  #abortReason: string | undefined;
  readonly #timer: TimerHandle;

  constructor(coordinator: TransactionCoordinator, sessionId: string, timeoutMs: number) {
    this.#coordinator = coordinator;
    this.sessionId = sessionId;
    this.#producerId = randomBytes(8).readBigUInt64BE() >> 2n;
    this.id = this.#producerId.toString(16);
    this.#timer = coordinator.host.clock.setTimeout(() => {
      void this.abort(`it timed out after ${timeoutMs} ms`);
    }, timeoutMs);
  }

  get state(): State {
    return this.#state;
  }

  publish(input: PublishInput): void {
    this.#assertOpen();
    const host = this.#coordinator.host;
    if (input.producer !== undefined) {
      throw new InvalidArgumentError('a transaction is its own producer: publish without a producer stamp');
    }
    const message = host.createMessage(input);
    if (message.deliverAfterMs !== undefined && message.deliverAfterMs > host.clock.nowMs()) {
      throw new WeirError(ErrorCode.NotSupported, 'delayed messages cannot join a transaction');
    }
    const stream = host.capturing(message);
    if (stream === undefined) {
      throw new WeirError(ErrorCode.NoStream, `no stream captures subject '${message.subject}'`);
    }
    const bytes = encodeMessage(message).length;
    if (this.#messages.length >= Limits.transactionMessagesMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `a transaction holds at most ${Limits.transactionMessagesMax} messages`,
      );
    }
    if (this.#bytes + bytes > Limits.transactionBytesMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `a transaction holds at most ${Limits.transactionBytesMax} bytes`,
      );
    }
    if (this.#coordinator.bufferedBytes + bytes > Limits.transactionsBufferedBytesMax) {
      throw new WeirError(
        ErrorCode.Overloaded,
        'open transactions hold too much; commit or abort some first',
      );
    }
    const partition = stream.partitionFor(message);
    const key = `${stream.name}/${partition}`;
    const sequence = this.#sequences.get(key) ?? 0;
    this.#sequences.set(key, sequence + 1);
    this.#messages.push({ stream: stream.name, partition, sequence, message });
    this.#bytes += bytes;
    this.#coordinator.bufferedBytes += bytes;
  }

  ack(delivery: Delivery): void {
    this.#assertOpen();
    if (this.#deliveries.length >= Limits.transactionAcksMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `a transaction holds at most ${Limits.transactionAcksMax} acks`,
      );
    }
    const consumer = this.#coordinator.host.consumer(delivery.stream, delivery.consumer);
    if (consumer === undefined) {
      throw new WeirError(ErrorCode.ConsumerNotFound, `consumer '${delivery.consumer}' not found`);
    }
    if (!consumer.isCurrent(delivery)) {
      throw new WeirError(ErrorCode.StaleAck, `delivery ${delivery.offset} is not the current attempt`);
    }
    this.#deliveries.push(delivery);
  }

  async commit(): Promise<PublishAck[]> {
    this.#assertOpen();
    this.#state = 'committing';
    this.#timer.cancel();
    const host = this.#coordinator.host;
    const stale = this.#deliveries.find(
      (delivery) => host.consumer(delivery.stream, delivery.consumer)?.isCurrent(delivery) !== true,
    );
    if (stale !== undefined) {
      await this.#abortNow(`delivery ${stale.offset} of '${stale.stream}' was redelivered before commit`);
      throw new WeirError(
        ErrorCode.TransactionAborted,
        `transaction ${this.id} aborted: ${this.#abortReason}`,
      );
    }
    this.#release();
    if (this.#messages.length === 0 && this.#deliveries.length === 0) {
      this.#state = 'committed';
      return [];
    }
    const acks: AckRef[] = this.#deliveries.map((delivery) => ({
      stream: delivery.stream,
      consumer: delivery.consumer,
      partition: delivery.partition,
      offset: delivery.offset,
    }));
    const committed: CommittedTransaction = { id: this.#producerId, acks, messages: this.#messages };
    try {
      await this.#coordinator.writeCommit(committed);
    } catch (error) {
      // Not committed: the commit batch is on disk whole or not at all, and it failed.
      this.#returnDeliveries();
      this.#state = 'aborted';
      this.#coordinator.aborted += 1;
      throw error;
    }
    this.#state = 'committed';
    const published = await this.#coordinator.apply(committed, this.#deliveries, this.sessionId);
    await this.#coordinator.writeApplied(this.#producerId);
    return published;
  }

  async abort(reason = 'aborted by the client'): Promise<void> {
    if (this.#state !== 'open') return;
    await this.#abortNow(reason);
  }

  async #abortNow(reason: string): Promise<void> {
    this.#state = 'aborted';
    this.#abortReason = reason;
    this.#timer.cancel();
    this.#release();
    this.#coordinator.aborted += 1;
    this.#returnDeliveries();
    await Promise.resolve();
  }

  /** Acked deliveries go back to their consumer for redelivery. */
  #returnDeliveries(): void {
    for (const delivery of this.#deliveries) {
      this.#coordinator.host.consumer(delivery.stream, delivery.consumer)?.nack(delivery, {
        reason: `transaction ${this.id} aborted`,
      });
    }
  }

  #release(): void {
    this.#coordinator.bufferedBytes -= this.#bytes;
    this.#bytes = 0;
    this.#coordinator.forget(this);
  }

  #assertOpen(): void {
    if (this.#state === 'open') return;
    if (this.#state === 'aborted') {
      throw new WeirError(
        ErrorCode.TransactionAborted,
        `transaction ${this.id} was aborted: ${this.#abortReason}`,
      );
    }
    throw new WeirError(ErrorCode.TransactionNotFound, `transaction ${this.id} is ${this.#state}`);
  }
}
