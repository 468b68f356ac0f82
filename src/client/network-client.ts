// The network client: `connect({ servers })` gives a Client (types.ts, the same API as the
// in-process client) over the native protocol, with automatic reconnect under backoff.
//
// Publishing: every publish of one tick goes out in one PUBLISH frame per run of
// fire-and-forget or confirmed messages (frames of a tick share one socket write), so under
// load batching is automatic and idle latency is one tick. Unsent and unconfirmed
// publishes are held, bounded by `pendingBytesMax`. When a connection is lost, confirmed
// publishes without their PUBLISH_ACK are sent again on the next connection, in order, so a
// confirmed message is never lost; they carry idempotent-producer stamps (network-producer.ts),
// so one the broker had stored is confirmed, not stored twice (messages the client cannot
// place on a partition go unstamped: at-least-once). Fire-and-forget publishes already
// written are at-most-once.
//
// Subscriptions are remembered and restored on every new connection under the same id;
// durable consumers resume at the broker where they were. Messages received on a lost
// connection and not yet handed to the application are dropped, since the broker
// redelivers them; acks for messages of a lost connection are not sent (they would be stale).
//
// Events: 'disconnect' (error), 'reconnect', 'close' (error?), and 'error' for handler
// failures without onError and errors the broker reports about frames that expected no
// answer — emitted only while someone listens.

import { EventEmitter } from 'node:events';
import { unreachable } from '../common/assert.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError, isWeirError } from '../common/errors.js';
import type { AckOutcome, PublishAck, StreamConfigInput } from '../core/api.js';
import type { Frame } from '../protocols/native/codec/index.js';
import { Connection } from './connection.js';
import type { DestinationRef, DurableSubscriptionInput } from '../core/destinations.js';
import { NetworkAdministration } from './network-admin.js';
import type { SettleKind, Settler } from './network-message.js';
import { NetworkMessage, streamMessages } from './network-message.js';
import { IdempotentProducer } from './network-producer.js';
import { NetworkPublisher } from './network-publisher.js';
import { SettleBatcher } from './network-settles.js';
import { NetworkSubscriptions } from './network-subscriptions.js';
import { NetworkTransaction } from './network-transaction.js';
import type { ConnectOptions, ParsedConnectOptions } from './options.js';
import { parseConnectOptions } from './options.js';
import type {
  Admin,
  Body,
  Client,
  ConsumerTarget,
  FetchOptions,
  PublishOptions,
  QueueInfo,
  ReceivedMessage,
  RequestOptions,
  SubscribeOptions,
  Subscription,
  TemporaryQueue,
  TopicSubscribeOptions,
  TransactionOptions,
} from './types.js';

type State = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Connects to the first reachable server; rejects if none can be reached. */
export async function connect(options?: ConnectOptions): Promise<NetworkClient> {
  const client = new NetworkClient(parseConnectOptions(options));
  await client.start();
  return client;
}

export class NetworkClient extends EventEmitter implements Client, Settler {
  readonly admin: Admin;
  readonly #options: ParsedConnectOptions;
  #state: State = 'connecting';
  #connection: Connection | undefined;
  #epoch = 0;
  #serverIndex = 0;
  #attempt = 0;
  #reconnectTimer: TimerHandle | undefined;
  #connectedWaiters: { resolve: (connection: Connection) => void; reject: (error: WeirError) => void }[] = [];
  readonly #subscriptions: NetworkSubscriptions;
  readonly #publisher: NetworkPublisher;
  readonly #producer: IdempotentProducer | undefined;
  readonly #administration: NetworkAdministration;
  readonly #settles: SettleBatcher;

  constructor(options: ParsedConnectOptions) {
    super();
    this.#options = options;
    this.#publisher = new NetworkPublisher(options.pendingBytesMax);
    this.#administration = new NetworkAdministration(() => this.#whenConnected());
    this.admin = this.#administration.admin;
    this.#settles = new SettleBatcher({ connection: () => this.#connection, epoch: () => this.#epoch });
    this.#subscriptions = new NetworkSubscriptions({
      settler: this,
      connection: () => this.#connection,
      epoch: () => this.#epoch,
      closed: () => this.#state === 'closed',
      whenConnected: () => this.#whenConnected(),
      durableTopic: (topic, durable) => this.#durableTopic(topic, durable),
      flushSettles: () => this.#settles.flush(),
      handlerFailed: (error) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
      },
    });
    this.#producer = options.idempotent
      ? new IdempotentProducer({
          initProducer: async () => {
            const identity = await this.#administration.request<{ producerId: string; epoch: number }>(
              'producerInit',
              {},
            );
            return { producerId: BigInt(identity.producerId), epoch: identity.epoch };
          },
          route: async (subject) => {
            const { stream } = await this.#administration.request<{ stream: string | null }>('streamFind', {
              subject,
            });
            if (stream === null) return null;
            return { stream, partitions: (await this.admin.streamInfo(stream)).config.partitions };
          },
        })
      : undefined;
  }

  /** Opens the first connection; fails if no server can be reached. */
  async start(): Promise<void> {
    let lastError: WeirError | undefined;
    for (let index = 0; index < this.#options.servers.length; index++) {
      this.#serverIndex = index;
      try {
        await this.#open();
        return;
      } catch (error) {
        lastError = error as WeirError;
        if (isWeirError(error, ErrorCode.AuthenticationFailed)) break;
      }
    }
    this.#state = 'closed';
    throw lastError ?? new WeirError(ErrorCode.Closed, 'no server to connect to');
  }

  /** Where the client's timers come from. */
  get clock(): Clock {
    return this.#options.clock;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** The broker's session id of the current connection. */
  get sessionId(): string | undefined {
    return this.#connection?.welcome.sessionId;
  }

  /** Bytes of publishes not yet sent or not yet confirmed. */
  get pendingBytes(): number {
    return this.#publisher.pendingBytes;
  }

  // ---- connection lifecycle ----

  async #open(): Promise<void> {
    const address = this.#options.servers[this.#serverIndex % this.#options.servers.length];
    if (address === undefined) throw new WeirError(ErrorCode.InvalidArgument, 'no servers');
    const connection = await Connection.open(address, this.#options, {
      onFrame: (frame) => this.#onFrame(connection, frame),
      onClose: (error) => this.#onConnectionClosed(connection, error),
      onDrain: () => this.#publisher.drainedSocket(),
    });
    if (this.#state === 'closed') {
      connection.close();
      return;
    }
    this.#connection = connection;
    this.#epoch++;
    this.#attempt = 0;
    const restoring = this.#state === 'reconnecting';
    this.#state = 'connected';
    this.#subscriptions.restore(connection);
    for (const waiter of this.#connectedWaiters.splice(0)) waiter.resolve(connection);
    this.#publisher.connected(connection);
    this.#producer?.reconnected();
    if (restoring) this.emit('reconnect');
  }

  #onConnectionClosed(connection: Connection, error: WeirError | undefined): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    // Confirmed publishes without an answer go back to the front of the backlog, in order.
    this.#publisher.disconnected();
    this.#subscriptions.dropQueued();
    this.#settles.clear();
    if (this.#state === 'closed') return;
    if (error !== undefined && error.code === ErrorCode.AuthenticationFailed) {
      void this.#fail(error);
      return;
    }
    if (!this.#options.reconnect) {
      void this.#fail(error ?? new WeirError(ErrorCode.Closed, 'the connection was closed'));
      return;
    }
    this.#state = 'reconnecting';
    this.emit('disconnect', error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#state !== 'reconnecting') return;
    const attemptsMax = this.#options.reconnectAttemptsMax;
    if (attemptsMax >= 0 && this.#attempt >= attemptsMax) {
      void this.#fail(
        new WeirError(ErrorCode.Closed, `gave up reconnecting after ${this.#attempt} attempts`),
      );
      return;
    }
    const exponent = Math.min(this.#attempt, 20);
    const ceilingMs = Math.min(
      this.#options.reconnectDelayMsMax,
      this.#options.reconnectDelayMs * 2 ** exponent,
    );
    // Full jitter in the upper half, so a restarted broker is not hit by every client at once.
    const delayMs = Math.round(ceilingMs / 2 + (Math.random() * ceilingMs) / 2);
    this.#attempt++;
    this.#reconnectTimer = this.#options.clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state !== 'reconnecting') return;
      this.#serverIndex++;
      this.#open().catch((error: unknown) => {
        if (isWeirError(error, ErrorCode.AuthenticationFailed)) {
          void this.#fail(error);
          return;
        }
        this.#scheduleReconnect();
      });
    }, delayMs);
  }

  async #fail(error: WeirError): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#shutdown(error);
    this.emit('close', error);
  }

  #shutdown(error: WeirError): void {
    this.#reconnectTimer?.cancel();
    for (const waiter of this.#connectedWaiters.splice(0)) waiter.reject(error);
    this.#publisher.close(error);
    this.#subscriptions.endAll(error);
  }

  #whenConnected(): Promise<Connection> {
    if (this.#state === 'closed')
      return Promise.reject(new WeirError(ErrorCode.Closed, 'the client is closed'));
    if (this.#connection !== undefined) return Promise.resolve(this.#connection);
    return new Promise((resolve, reject) => this.#connectedWaiters.push({ resolve, reject }));
  }

  /**
   * Closes the client: sends what is queued, waits for outstanding confirms (up to the
   * request timeout), then says goodbye. Later calls fail with WEIR_CLOSED.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#connection !== undefined && this.#publisher.pendingBytes > 0) {
      this.#settles.flush();
      this.#publisher.flush();
      let timer: TimerHandle | undefined;
      await Promise.race([
        this.#publisher.settled(),
        new Promise<void>(
          (resolve) => (timer = this.#options.clock.setTimeout(resolve, this.#options.requestTimeoutMs)),
        ),
      ]);
      timer?.cancel();
    }
    this.#settles.flush();
    this.#state = 'closed';
    const connection = this.#connection;
    this.#connection = undefined;
    this.#shutdown(new WeirError(ErrorCode.Closed, 'the client is closed'));
    connection?.close();
    this.emit('close', undefined);
  }

  /** Drops the current connection as if the network failed (tests and diagnostics). */
  dropConnection(): void {
    this.#connection?.destroy(new WeirError(ErrorCode.Closed, 'connection dropped by the client'));
  }

  // ---- publishing ----

  /**
   * Fire-and-forget. Returns false when the caller should `await client.drained()` before
   * publishing more; throws WEIR_LIMIT_EXCEEDED past `pendingBytesMax`.
   */
  publish(subject: string, body: Body = '', options?: PublishOptions): boolean {
    this.#publisher.publish({ ...options, subject, body });
    return this.#publisher.belowHighWater;
  }

  /** Resolves once the broker has the message durably (fsynced under `always`). */
  publishConfirmed(subject: string, body: Body = '', options?: PublishOptions): Promise<PublishAck> {
    const message = { ...options, subject, body };
    if (this.#producer === undefined) return this.#publisher.publishConfirmed(message);
    // Stamped with idempotent-producer sequences (network-producer.ts): a re-send after a
    // reconnect is confirmed, not stored twice.
    return this.#producer.publish(message, (stamped, resolve, reject) =>
      this.#publisher.publishConfirmedThen(stamped, resolve, reject),
    );
  }

  /** Resolves when unsent and unconfirmed publishes are below `bytes` (default: half the high-water mark). */
  drained(bytes?: number): Promise<void> {
    return this.#publisher.drained(bytes);
  }

  // ---- subscribing ----

  /** A topic subscription (live, or durable with `durable`), or an attachment to a stream consumer. */
  subscribe(topic: string, options?: TopicSubscribeOptions): Subscription;
  subscribe(target: ConsumerTarget, options?: SubscribeOptions): Subscription;
  subscribe(target: string | ConsumerTarget, options: TopicSubscribeOptions = {}): Subscription {
    if (this.#state === 'closed') throw new WeirError(ErrorCode.Closed, 'the client is closed');
    return this.#subscriptions.subscribe(target, options);
  }

  /**
   * The stream that captures `topic`, or else a new interest stream for it (named as for
   * every protocol, src/core/destinations.ts), so persistent topic messages have a home.
   */
  topicStream(topic: string): Promise<{ stream: string; covers: boolean }> {
    return this.#administration.topicStream(topic);
  }

  /**
   * A durable subscription on a topic, made by the broker as for every protocol (the same
   * one STOMP and JMS subscribers of that name reach); idempotent.
   */
  ensureDurableSubscription(input: DurableSubscriptionInput): Promise<DestinationRef> {
    return this.#administration.ensureDurableSubscription(input);
  }

  /** Deletes durable subscription `subscriptionName` (of `clientId`); false when there was none. */
  deleteDurableSubscription(subscriptionName: string, clientId?: string): Promise<boolean> {
    return this.#administration.deleteDurableSubscription(subscriptionName, clientId);
  }

  /** A durable consumer on the interest stream that captures the topic (both created on first use). */
  async #durableTopic(topic: string, durable: string): Promise<DestinationRef> {
    return this.ensureDurableSubscription({
      topicFilter: topic,
      subscriptionName: durable,
      dispatch: 'shared',
    });
  }

  #onFrame(connection: Connection, frame: Frame): void {
    switch (frame.kind) {
      case 'deliver':
        this.#subscriptions.deliver(frame);
        return;
      case 'liveDeliver':
        this.#subscriptions.liveDeliver(frame);
        return;
      case 'subscriptionClosed':
        this.#subscriptions.closedByBroker(frame);
        return;
      case 'error':
        // An error about a frame that expected no answer (a failed fire-and-forget publish or ack).
        if (this.listenerCount('error') > 0)
          this.emit('error', new WeirError(frame.code as ErrorCode, frame.message));
        return;
      case 'ack':
      case 'admin':
      case 'adminResult':
      case 'attach':
      case 'credit':
      case 'detach':
      case 'fetch':
      case 'fetchResult':
      case 'goodbye':
      case 'hello':
      case 'nack':
      case 'ok':
      case 'ping':
      case 'pong':
      case 'publish':
      case 'publishAck':
      case 'request':
      case 'response':
      case 'transaction':
      case 'settleResult':
      case 'subscribeLive':
      case 'term':
      case 'unsupported':
      case 'welcome':
        connection.destroy(
          new WeirError(ErrorCode.ProtocolError, `unexpected ${frame.kind} frame from the broker`),
        );
        return;
      default:
        unreachable(frame, 'frame kind');
    }
  }

  // ---- pull, ack, nack, term ----

  /** Pulls up to `batch` messages, waiting up to `expiresMs` for the first. */
  async fetch(target: ConsumerTarget, options: FetchOptions = {}): Promise<ReceivedMessage[]> {
    const batch = options.batch ?? 1;
    const expiresMs = options.expiresMs ?? 5_000;
    const connection = await this.#whenConnected();
    const connectionEpoch = this.#epoch;
    const { stream, consumer } = target;
    const answer = await connection.request(
      { kind: 'fetch', requestId: 0, stream, consumer, batch, expiresMs },
      expiresMs + this.#options.requestTimeoutMs,
    );
    if (answer.kind !== 'fetchResult') {
      throw new WeirError(ErrorCode.ProtocolError, `expected FETCH_RESULT, got ${answer.kind}`);
    }
    return streamMessages(answer.deliveries, { stream, consumer, connectionEpoch }, this);
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

  /** Called by NetworkMessage: settles of one tick go out as one frame per consumer and kind. */
  settle(
    message: NetworkMessage,
    kind: SettleKind,
    options: { delayMs?: number; reason?: string } | undefined,
  ): void {
    this.#settles.settle(message, kind, options);
  }

  /** An ack whose outcome the caller awaits: `stale` when the broker had already redelivered it. */
  settleConfirmed(message: NetworkMessage): Promise<AckOutcome> {
    return this.#settles.settleConfirmed(message);
  }

  // ---- request-reply ----

  /**
   * Publishes a request with a reply subject in this connection's inbox and resolves with
   * the first reply; fails with WEIR_NO_RESPONDERS when nothing took it, WEIR_TIMEOUT after
   * `timeoutMs` (default 5,000). A responder answers by publishing to `message.replyTo`.
   */
  async request(subject: string, body: Body = '', options: RequestOptions = {}): Promise<ReceivedMessage> {
    const { timeoutMs = 5_000, ...publish } = options;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 0xffffffff) {
      throw new InvalidArgumentError('timeoutMs must be a positive integer');
    }
    const connection = await this.#whenConnected();
    const answer = await connection.request(
      { kind: 'request', requestId: 0, timeoutMs, message: { ...publish, subject, body } },
      timeoutMs + this.#options.requestTimeoutMs,
    );
    if (answer.kind !== 'response')
      throw new WeirError(ErrorCode.ProtocolError, `expected RESPONSE, got ${answer.kind}`);
    return new NetworkMessage(answer.message);
  }

  // ---- transactions ----

  /**
   * Begins a transaction: publishes and acks gathered here and applied together or not at
   * all on commit (see network-transaction.ts). `timeoutMs` bounds the commit at the broker.
   */
  beginTransaction(options: TransactionOptions = {}): NetworkTransaction {
    if (this.#state === 'closed') throw new WeirError(ErrorCode.Closed, 'the client is closed');
    const timeoutMs = options.timeoutMs ?? 0;
    return new NetworkTransaction(async (messages, acks, commitTimeoutMs) => {
      const connection = await this.#whenConnected();
      const answer = await connection.request(
        { kind: 'transaction', requestId: 0, timeoutMs: commitTimeoutMs, messages, acks },
        commitTimeoutMs + this.#options.requestTimeoutMs,
      );
      if (answer.kind !== 'publishAck') {
        throw new WeirError(ErrorCode.ProtocolError, `expected PUBLISH_ACK, got ${answer.kind}`);
      }
      return answer.results.map((result) => {
        if (!result.ok) throw new WeirError(result.code as ErrorCode, result.message);
        return {
          stream: result.stream,
          partition: result.partition,
          offset: result.offset,
          duplicate: result.duplicate,
        };
      });
    }, timeoutMs);
  }

  // ---- temporary destinations ----

  /**
   * A topic subject owned by this connection (live subscriptions only). It belongs to the
   * broker session of the current connection: after a reconnect, make a new one.
   */
  createTemporaryTopic(): Promise<string> {
    return this.#administration.createTemporaryTopic();
  }

  /**
   * A queue owned by this connection: the broker deletes it, with its messages, when the
   * connection closes or is lost (a subscription to it then ends with the broker's error).
   */
  createTemporaryQueue(): Promise<TemporaryQueue> {
    return this.#administration.createTemporaryQueue();
  }

  // ---- administration ----

  /** Queue `name`, made by the broker as for every protocol (src/core/destinations.ts); idempotent. */
  createQueue(
    name: string,
    options: Partial<Omit<StreamConfigInput, 'name' | 'subjects'>> = {},
  ): Promise<QueueInfo> {
    return this.#administration.createQueue(name, options);
  }
}
