// Destinations → subjects and consumers for one connection: queues created on first use,
// temporary queues created when first named, replies routed to their owner's inbox.
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { StompLimits } from '../../common/limits.js';
import type { PublishInput } from '../../core/api.js';
import { StompProtocolError } from './errors.js';
import { parseDestination, type Destination } from './mapping.js';
import type { AckMode, ConsumerSubscription, StompConnection, TempQueue } from './session.js';

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
 * This connection's temporary queue `name`, created on first use: a core temporary queue
 * (memory workqueue stream and consumer, deleted when the connection's session closes),
 * with this connection attached so that what is sent there arrives without a SUBSCRIBE, as
 * RabbitMQ does. A SUBSCRIBE to /temp-queue/x only names the subscription id and ack mode.
 * Returns the queue's subject; a promise the first time.
 */
export function ensureTempQueue(
  connection: StompConnection,
  name: string,
  subscribe?: { readonly id: string; readonly ackMode: AckMode; readonly prefetch: number },
): string | Promise<string> {
  const existing = connection.tempQueues.get(name);
  if (existing !== undefined) {
    if (subscribe === undefined) return existing.subject;
    return existing.ready.then(() => {
      reattach(connection, existing, subscribe);
      return existing.subject;
    });
  }
  const temp: TempQueue = {
    subject: '',
    ref: undefined,
    ready: Promise.resolve(),
    subscription: tempSubscription(name, subscribe),
  };
  temp.ready = connection.session.createTemporaryQueue().then((queue) => {
    temp.subject = queue.subject;
    temp.ref = { stream: queue.stream, consumer: queue.consumer };
    attachTemp(connection, temp, subscribe?.prefetch ?? StompLimits.prefetchDefault);
  });
  connection.tempQueues.set(name, temp);
  return temp.ready.then(() => temp.subject);
}

function tempSubscription(
  name: string,
  subscribe: { readonly id: string; readonly ackMode: AckMode } | undefined,
): ConsumerSubscription {
  return {
    kind: 'consumer',
    id: subscribe?.id ?? `/temp-queue/${name}`,
    destination: { kind: 'temp-queue', name },
    ackMode: subscribe?.ackMode ?? 'auto',
    attachment: undefined,
    pending: new Map(),
    owedCredit: 0,
    durableName: undefined,
  };
}

function attachTemp(connection: StompConnection, temp: TempQueue, prefetch: number): void {
  const ref = temp.ref;
  if (ref === undefined || connection.state !== 'connected') return;
  const subscription = temp.subscription;
  subscription.attachment = connection.session.attach(ref.stream, ref.consumer, {
    credit: prefetch,
    creditOnAck: subscription.ackMode !== 'auto',
    onDelivery: (delivery) => connection.deliver(subscription, delivery),
    onClosed: (error) => {
      if (error !== undefined && temp.subscription === subscription) connection.fail(error);
    },
  });
}

/** A SUBSCRIBE to an existing temporary queue: attach again with its id and ack mode. */
function reattach(
  connection: StompConnection,
  temp: TempQueue,
  subscribe: { readonly id: string; readonly ackMode: AckMode; readonly prefetch: number },
): void {
  const previous = temp.subscription;
  temp.subscription = tempSubscription(
    previous.destination.kind === 'temp-queue' ? previous.destination.name : '',
    subscribe,
  );
  previous.attachment?.close();
  connection.forgetPending(previous);
  attachTemp(connection, temp, subscribe.prefetch);
}

/** A SEND's `reply-to` as a subject; `/temp-queue/x` is rewritten to this connection's temporary queue. */
export function resolveReplyTo(
  connection: StompConnection,
  value: string | undefined,
): string | undefined | Promise<string> {
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
