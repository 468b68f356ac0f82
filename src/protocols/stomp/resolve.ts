// Destinations → subjects and consumers for one connection: queues created on first use,
// temporary queues created when first named, replies routed to their owner's inbox.
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { StompLimits } from '../../common/limits.js';
import type { PublishInput } from '../../core/api.js';
import { StompProtocolError } from './errors.js';
import { parseDestination, tempQueueSubject, type Destination } from './mapping.js';
import type { LiveStompSubscription, StompConnection } from './session.js';

/** The subject a SEND to `destination` publishes on. */
export function publishSubject(
  connection: StompConnection,
  destination: Destination,
): string | Promise<string> {
  switch (destination.kind) {
    case 'queue': {
      const ref = connection.context.queues.queue(destination.name);
      return ref instanceof Promise ? ref.then(() => destination.name) : destination.name;
    }
    case 'topic':
      return destination.filter;
    case 'temp-queue':
      return ensureTempQueue(connection, destination.name);
    case 'reply-queue':
      return destination.subject;
  }
}

/**
 * This connection's temporary queue `name`, created on first use: a live subscription on
 * an inbox subject that only this connection knows, closed with the connection. What is
 * sent there while the connection lives is delivered to it; nothing is stored, as with
 * RabbitMQ's exclusive auto-delete reply queues.
 */
export function ensureTempQueue(connection: StompConnection, name: string, subscriptionId?: string): string {
  const subject = tempQueueSubject(connection.id, name);
  const existing = connection.tempQueues.get(name);
  if (existing !== undefined) {
    if (subscriptionId !== undefined) existing.id = subscriptionId;
    return subject;
  }
  const subscription: LiveStompSubscription & { id: string } = {
    kind: 'live',
    id: subscriptionId ?? `/temp-queue/${name}`,
    destination: { kind: 'temp-queue', name },
    ackMode: 'auto',
    live: undefined,
  };
  subscription.live = connection.session.subscribeLive(subject, {
    bufferMessagesMax: StompLimits.liveBufferMessages,
    onMessage: (message) => {
      if (!connection.deliverLive(subscription, message)) connection.slowConsumer(subscription);
    },
    onClosed: (error) => {
      if (error !== undefined) connection.fail(error);
    },
  });
  connection.tempQueues.set(name, subscription);
  return subject;
}

/** A SEND's `reply-to` as a subject; `/temp-queue/x` is rewritten to this connection's inbox. */
export function resolveReplyTo(connection: StompConnection, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const destination = parseDestination(value, false);
  switch (destination.kind) {
    case 'queue':
      return destination.name;
    case 'topic':
      return destination.filter;
    case 'temp-queue':
      return ensureTempQueue(connection, destination.name);
    case 'reply-queue':
      return destination.subject;
  }
}

/**
 * Publishes and resolves once the message is durable. A topic, temporary queue or reply
 * that no stream captures has only live subscribers: the core delivered it to them and there
 * is nothing to make durable, so that confirms too.
 */
export function publishDurable(
  connection: StompConnection,
  input: PublishInput,
  destination: Destination,
): Promise<unknown> {
  return connection.session.publishConfirmed(input).catch((error: unknown) => {
    if (!isWeirError(error, ErrorCode.NoStream)) throw error;
    if (destination.kind !== 'queue') {
      // Live subscribers get messages on the core's next delivery turn; the RECEIPT waits
      // for it, so a producer pacing itself by receipts cannot outrun them.
      return new Promise((resolve) => setImmediate(resolve));
    }
    connection.context.queues.forget(destination.name);
    throw new StompProtocolError(`queue '${destination.name}' no longer exists`, ErrorCode.StreamNotFound);
  });
}
