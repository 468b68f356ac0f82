// MessageProducer: delivery mode, priority, time to live and delivery delay, per producer
// or per send. PERSISTENT sends resolve once the broker has the message durably;
// NON_PERSISTENT sends are fire-and-forget (JMS allows that) and only wait for the client's
// buffer to drain under load.

import { randomBytes } from 'node:crypto';
import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import { DeliveryMode, defaultPriority } from './constants.js';
import type { Destination } from './destinations.js';
import type { Message } from './messages.js';
import { toPublish } from './messages.js';
import type { Session } from './session.js';

export interface SendOptions {
  readonly deliveryMode?: DeliveryMode;
  readonly priority?: number;
  readonly timeToLiveMs?: number;
  readonly deliveryDelayMs?: number;
}

export class MessageProducer {
  readonly destination: Destination | undefined;
  deliveryMode: DeliveryMode = DeliveryMode.PERSISTENT;
  priority = defaultPriority;
  timeToLiveMs = 0;
  deliveryDelayMs = 0;
  readonly #session: Session;
  #closed = false;

  constructor(session: Session, destination: Destination | undefined) {
    this.#session = session;
    this.destination = destination;
  }

  /** Sends to the producer's destination, or to `destination` if the producer has none. */
  send(message: Message, options?: SendOptions): Promise<void>;
  send(destination: Destination, message: Message, options?: SendOptions): Promise<void>;
  async send(
    first: Message | Destination,
    second?: Message | SendOptions,
    third?: SendOptions,
  ): Promise<void> {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the producer is closed');
    let destination: Destination | undefined;
    let message: Message;
    let options: SendOptions | undefined;
    if ('kind' in first && !('encodeBody' in first)) {
      destination = first;
      message = second as Message;
      options = third;
      if (this.destination !== undefined) {
        throw new WeirError(
          ErrorCode.InvalidArgument,
          'this producer has a destination; send(message) instead',
        );
      }
    } else {
      destination = this.destination;
      message = first as Message;
      options = second as SendOptions | undefined;
    }
    if (destination === undefined) throw new InvalidArgumentError('no destination: give one to send()');
    const deliveryMode = options?.deliveryMode ?? this.deliveryMode;
    const priority = options?.priority ?? this.priority;
    const timeToLiveMs = options?.timeToLiveMs ?? this.timeToLiveMs;
    const deliveryDelayMs = options?.deliveryDelayMs ?? this.deliveryDelayMs;
    if (!Number.isInteger(priority) || priority < 0 || priority > 9) {
      throw new InvalidArgumentError('priority must be an integer from 0 to 9');
    }
    if (timeToLiveMs < 0 || deliveryDelayMs < 0)
      throw new InvalidArgumentError('time to live and delay must be ≥ 0');
    const connection = this.#session.connection;
    if (destination.kind === 'queue') await connection.ensureQueue(destination.queueName);
    if (
      destination.kind === 'topic' &&
      (deliveryMode === DeliveryMode.PERSISTENT || this.#session.transacted)
    ) {
      await connection.ensureTopicStream(destination.topicName);
    }
    const nowMs = Date.now();
    message.JMSMessageID = `ID:${randomBytes(12).toString('hex')}`;
    message.JMSDestination = destination;
    message.JMSDeliveryMode = deliveryMode;
    message.JMSPriority = priority;
    message.JMSTimestamp = nowMs;
    message.JMSExpiration = timeToLiveMs > 0 ? nowMs + timeToLiveMs : 0;
    message.JMSDeliveryTime = nowMs + deliveryDelayMs;
    const input = toPublish(message, destination, { deliveryMode, priority, timeToLiveMs, deliveryDelayMs });
    const { subject, body, ...rest } = input;
    const client = connection.client;
    // Temporary destinations are live inboxes, outside any stream: they are sent at once.
    const temporary = destination.kind === 'temporary-queue' || destination.kind === 'temporary-topic';
    if (this.#session.transacted && !temporary) {
      this.#session.transaction.publish(subject, body, { ...rest, id: message.JMSMessageID });
      return;
    }
    const persistentToStream =
      deliveryMode === DeliveryMode.PERSISTENT &&
      destination.kind !== 'temporary-queue' &&
      destination.kind !== 'temporary-topic';
    if (persistentToStream) {
      await client.publishConfirmed(subject, body, { ...rest, id: message.JMSMessageID });
      return;
    }
    if (!client.publish(subject, body, { ...rest, id: message.JMSMessageID })) await client.drained();
  }

  close(): void {
    this.#closed = true;
  }
}
