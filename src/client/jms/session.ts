// JMS Session: creates producers, consumers, destinations and messages, and applies the
// acknowledge mode. A transacted session gathers what it sends and the acks of what it
// receives in one client transaction: commit() applies them together at the broker,
// rollback() discards the sends and redelivers the received messages. Message selectors
// work on durable subscriptions (the broker's consumer selector); on queues and non-durable
// topic consumers they fail with WEIR_NOT_SUPPORTED.

import { ErrorCode, WeirError } from '../../common/errors.js';
import type { NetworkTransaction } from '../network-transaction.js';
import type { ReceivedMessage } from '../types.js';
import type { Subscription } from '../types.js';
import type { AcknowledgeMode } from './constants.js';
import { AcknowledgeMode as Modes } from './constants.js';
import type { Connection } from './connection.js';
import { MessageConsumer } from './consumer.js';
import type { Destination, Queue, TemporaryQueue, TemporaryTopic, Topic } from './destinations.js';
import { inboxSubject, queue, topic } from './destinations.js';
import type { Acknowledger, Message } from './messages.js';
import {
  BytesMessage,
  MapMessage,
  ObjectMessage,
  StreamMessage,
  TextMessage,
  fromReceived,
} from './messages.js';
import { MessageProducer } from './producer.js';

function rejectSelector(selector: string | undefined): void {
  if (selector !== undefined && selector.trim() !== '') {
    throw new WeirError(
      ErrorCode.NotSupported,
      'message selectors are supported on durable subscriptions only (createDurableConsumer, createSharedDurableConsumer)',
    );
  }
}

export class Session implements Acknowledger {
  readonly connection: Connection;
  readonly acknowledgeMode: AcknowledgeMode;
  readonly transacted: boolean;
  #transaction: NetworkTransaction | undefined;
  /** CLIENT and INDIVIDUAL modes: delivered and not yet acknowledged, in delivery order. */
  #unacked: Message[] = [];
  readonly #consumers = new Set<MessageConsumer>();
  readonly #producers = new Set<MessageProducer>();
  #closed = false;

  constructor(connection: Connection, acknowledgeMode: AcknowledgeMode, transacted = false) {
    this.connection = connection;
    this.acknowledgeMode = acknowledgeMode;
    this.transacted = transacted;
  }

  // ---- destinations and messages ----

  createQueue(name: string): Queue {
    return queue(name);
  }

  createTopic(name: string): Topic {
    return topic(name);
  }

  /** A queue that lives as long as this connection: one consumer of it gets each message. */
  createTemporaryQueue(): TemporaryQueue {
    const name = inboxSubject();
    return {
      kind: 'temporary-queue',
      queueName: name,
      delete: async () => undefined,
      toString: () => `temp-queue://${name}`,
    };
  }

  createTemporaryTopic(): TemporaryTopic {
    const name = inboxSubject();
    return {
      kind: 'temporary-topic',
      topicName: name,
      delete: async () => undefined,
      toString: () => `temp-topic://${name}`,
    };
  }

  createTextMessage(text?: string): TextMessage {
    return new TextMessage(text);
  }

  createBytesMessage(): BytesMessage {
    return new BytesMessage();
  }

  createMapMessage(): MapMessage {
    return new MapMessage();
  }

  createObjectMessage(object?: unknown): ObjectMessage {
    return new ObjectMessage(object);
  }

  createStreamMessage(): StreamMessage {
    return new StreamMessage();
  }

  /** A message with no body (JMS Message): an empty TextMessage. */
  createMessage(): TextMessage {
    return new TextMessage();
  }

  // ---- producers and consumers ----

  createProducer(destination?: Destination): MessageProducer {
    this.#checkOpen();
    const producer = new MessageProducer(this, destination);
    this.#producers.add(producer);
    return producer;
  }

  async createConsumer(
    destination: Destination,
    selector?: string,
    noLocal = false,
  ): Promise<MessageConsumer> {
    this.#checkOpen();
    rejectSelector(selector);
    const client = this.connection.client;
    let subscription: Subscription;
    switch (destination.kind) {
      case 'queue':
        subscription = client.subscribe(await this.connection.ensureQueue(destination.queueName));
        break;
      case 'topic':
        subscription = client.subscribe(destination.topicName, { noLocal });
        break;
      case 'temporary-queue':
        subscription = client.subscribe(destination.queueName, { queueGroup: 'temporary-queue' });
        break;
      case 'temporary-topic':
        subscription = client.subscribe(destination.topicName, { noLocal });
        break;
    }
    return this.#track(new MessageConsumer(this, subscription, destination));
  }

  /** An unshared durable subscription, named by the client id and `name` (JMS 1.1 createDurableSubscriber). */
  async createDurableConsumer(
    destination: Topic,
    name: string,
    selector?: string,
    _noLocal = false,
  ): Promise<MessageConsumer> {
    this.#checkOpen();
    const clientId = this.connection.clientId;
    if (clientId === undefined) {
      throw new WeirError(
        ErrorCode.InvalidArgument,
        'an unshared durable subscription needs a client id on the connection',
      );
    }
    return this.#durable(destination, name, clientId, 'exclusive', selector);
  }

  createDurableSubscriber(
    destination: Topic,
    name: string,
    selector?: string,
    noLocal = false,
  ): Promise<MessageConsumer> {
    return this.createDurableConsumer(destination, name, selector, noLocal);
  }

  /** A shared durable subscription: every consumer of it, on any connection, competes for its messages. */
  async createSharedDurableConsumer(
    destination: Topic,
    name: string,
    selector?: string,
  ): Promise<MessageConsumer> {
    this.#checkOpen();
    return this.#durable(destination, name, undefined, 'shared', selector);
  }

  /** A shared non-durable subscription: one member of `sharedName` gets each message. */
  async createSharedConsumer(
    destination: Topic,
    sharedName: string,
    selector?: string,
  ): Promise<MessageConsumer> {
    this.#checkOpen();
    rejectSelector(selector);
    const subscription = await this.connection.client.subscribe(destination.topicName, {
      queueGroup: sharedName,
    });
    return this.#track(new MessageConsumer(this, subscription, destination));
  }

  /** A durable subscription, named and placed by the broker as for every protocol (src/core/destinations.ts). */
  async #durable(
    destination: Topic,
    subscriptionName: string,
    clientId: string | undefined,
    dispatch: 'exclusive' | 'shared',
    selector: string | undefined,
  ): Promise<MessageConsumer> {
    // A subscription whose topic or selector changes is replaced (JMS: as if unsubscribed first).
    const target = await this.connection.client.ensureDurableSubscription({
      topicFilter: destination.topicName,
      subscriptionName,
      dispatch,
      ...(clientId !== undefined ? { clientId } : {}),
      ...(selector !== undefined && selector.trim() !== '' ? { selector } : {}),
    });
    const subscription = this.connection.client.subscribe(target);
    return this.#track(new MessageConsumer(this, subscription, destination));
  }

  /** Deletes a durable subscription (unshared: by the connection's client id and `name`; else shared). */
  async unsubscribe(name: string, _topicName?: string): Promise<void> {
    const client = this.connection.client;
    const clientId = this.connection.clientId;
    if (clientId !== undefined && (await client.deleteDurableSubscription(name, clientId))) return;
    if (await client.deleteDurableSubscription(name)) return;
    throw new WeirError(ErrorCode.ConsumerNotFound, `no durable subscription ${name}`);
  }

  #track(consumer: MessageConsumer): MessageConsumer {
    this.#consumers.add(consumer);
    return consumer;
  }

  // ---- acknowledgement ----

  /** @internal A consumer hands out a message: ack now (AUTO/DUPS_OK receive) or remember it. */
  delivered(
    received: ReceivedMessage,
    destination: Destination,
    via: 'receive' | 'listener' = 'receive',
  ): Message {
    const message = fromReceived(received, destination, this);
    if (this.transacted) {
      // Acked when the session commits; live messages need no ack.
      if (received.stream !== undefined) this.transaction.ack(received);
      return message;
    }
    const auto =
      this.acknowledgeMode === Modes.AUTO_ACKNOWLEDGE || this.acknowledgeMode === Modes.DUPS_OK_ACKNOWLEDGE;
    if (auto) {
      if (via === 'receive') received.ack();
    } else {
      this.#unacked.push(message);
    }
    return message;
  }

  /** @internal A listener returned normally. */
  listenerReturned(message: Message): void {
    if (this.transacted) return;
    const auto =
      this.acknowledgeMode === Modes.AUTO_ACKNOWLEDGE || this.acknowledgeMode === Modes.DUPS_OK_ACKNOWLEDGE;
    if (auto) message.received?.ack();
  }

  acknowledge(message: Message): void {
    if (this.acknowledgeMode === Modes.INDIVIDUAL_ACKNOWLEDGE) {
      message.received?.ack();
      this.#unacked = this.#unacked.filter((each) => each !== message);
      return;
    }
    if (this.acknowledgeMode === Modes.CLIENT_ACKNOWLEDGE) {
      for (const each of this.#unacked) each.received?.ack();
      this.#unacked = [];
    }
    // AUTO and DUPS_OK acknowledge by themselves; acknowledge() is a no-op there (JMS).
  }

  /** Redelivers every message delivered and not acknowledged (CLIENT and INDIVIDUAL modes). */
  recover(): void {
    this.#checkOpen();
    for (const message of this.#unacked) message.received?.nack();
    this.#unacked = [];
  }

  /** @internal The session's current transaction (transacted sessions). */
  get transaction(): NetworkTransaction {
    if (!this.transacted) throw new WeirError(ErrorCode.InvalidArgument, 'this session is not transacted');
    this.#transaction ??= this.connection.client.beginTransaction();
    return this.#transaction;
  }

  /** Applies every send and every receive of the transaction at once. */
  async commit(): Promise<void> {
    this.#checkOpen();
    if (!this.transacted)
      throw new WeirError(ErrorCode.InvalidArgument, 'commit: this session is not transacted');
    const transaction = this.transaction;
    this.#transaction = undefined;
    await transaction.commit();
  }

  /** Discards the sends and redelivers the messages received in the transaction. */
  async rollback(): Promise<void> {
    this.#checkOpen();
    if (!this.transacted)
      throw new WeirError(ErrorCode.InvalidArgument, 'rollback: this session is not transacted');
    await this.#transaction?.abort();
    this.#transaction = undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const producer of this.#producers) producer.close();
    await Promise.all([...this.#consumers].map((consumer) => consumer.close()));
    // Closing a transacted session rolls it back (JMS 2.0 §6.2.7).
    await this.#transaction?.abort();
    this.#transaction = undefined;
    // Unacknowledged messages of a closed session are redelivered (JMS 2.0 §6.2.13).
    for (const message of this.#unacked) message.received?.nack();
    this.#unacked = [];
    this.connection.sessionClosed(this);
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the session is closed');
  }
}
