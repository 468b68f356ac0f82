// SUBSCRIBE (STOMP 1.2: "SUBSCRIBE").
//
//   /queue/x       attach to queue x's shared consumer: competing consumers, at-least-once
//                  unless ack:auto
//   /topic/x       a live subscription (at-most-once; a `selector` is applied as messages
//                  arrive), or a durable subscription (a `selector` becomes the consumer's) in either
//                  dialect: RabbitMQ's `durable:true` (named by `id`) or ActiveMQ's
//                  `activemq.subscriptionName` (named with the CONNECT `client-id`)
//   /temp-queue/x  names the subscription id under which this connection's temporary queue
//                  x delivers
//
// Prefetch: `prefetch-count` (RabbitMQ) or `activemq.prefetchSize` (ActiveMQ) bounds the
// unacked deliveries of the subscription; default StompLimits.prefetchDefault.
import { ErrorCode } from '../../../common/errors.js';
import { StompLimits } from '../../../common/limits.js';
import { header, type StompFrame } from '../codec/index.js';
import type { ConsumerRef, DurableName } from '../core-admin.js';
import { missingHeader, notSupported, StompProtocolError } from '../errors.js';
import { parseDestination } from '../mapping.js';
import { compileSelector } from '../../../core/selector/selector.js';
import { ensureTempQueue } from '../resolve.js';
import type { AckMode, ConsumerSubscription, LiveStompSubscription, StompConnection } from '../session.js';

const ackModes: readonly AckMode[] = ['auto', 'client', 'client-individual'];

export function handleSubscribe(connection: StompConnection, frame: StompFrame): void | Promise<void> {
  const destinationHeader = header(frame, 'destination');
  if (destinationHeader === undefined) throw missingHeader('SUBSCRIBE', 'destination');
  // STOMP 1.0 made `id` optional; the destination then names the subscription.
  const id = header(frame, 'id') ?? (connection.version === '1.0' ? destinationHeader : undefined);
  if (id === undefined) throw missingHeader('SUBSCRIBE', 'id');
  if (connection.subscriptions.has(id)) {
    throw new StompProtocolError(`subscription id '${id}' is already in use on this connection`);
  }
  if (connection.subscriptions.size >= StompLimits.subscriptionsMax) {
    throw new StompProtocolError(
      `a connection may hold at most ${StompLimits.subscriptionsMax} subscriptions`,
      ErrorCode.LimitExceeded,
    );
  }
  const ackHeader = header(frame, 'ack') ?? 'auto';
  const ackMode = ackModes.find((mode) => mode === ackHeader);
  if (ackMode === undefined) {
    throw new StompProtocolError(`ack '${ackHeader}' is not one of auto, client, client-individual`);
  }
  const selectorText = header(frame, 'selector');
  // Compiled now so that a syntax error is answered before anything is created.
  const selector =
    selectorText === undefined || selectorText.trim() === '' ? undefined : compileSelector(selectorText);
  if (header(frame, 'activemq.noLocal') === 'true') throw notSupported('activemq.noLocal');
  if (header(frame, 'activemq.retroactive') === 'true') throw notSupported('activemq.retroactive');
  const prefetch = prefetchOf(frame);
  const destination = parseDestination(destinationHeader, true);
  const durableName = durableNameOf(connection, frame, id);

  switch (destination.kind) {
    case 'queue': {
      if (selector !== undefined) {
        throw notSupported(
          'a selector on a queue subscription (the queue has one shared consumer; selectors work on topic subscriptions)',
        );
      }
      const ref = connection.context.queues.queue(destination.name);
      const subscription = consumerSubscription(id, destination, ackMode, undefined);
      connection.subscriptions.set(id, subscription);
      if (ref instanceof Promise)
        return ref.then((resolved) => attach(connection, subscription, resolved, prefetch));
      attach(connection, subscription, ref, prefetch);
      return;
    }
    case 'topic': {
      if (durableName !== undefined) {
        const subscription = consumerSubscription(id, destination, ackMode, durableName);
        connection.subscriptions.set(id, subscription);
        return connection.context.core
          .ensureDurableSubscription(destination.filter, durableName, selector?.text)
          .then((ref) => attach(connection, subscription, ref, prefetch));
      }
      const subscription: LiveStompSubscription = { kind: 'live', id, destination, ackMode, live: undefined };
      connection.subscriptions.set(id, subscription);
      subscription.live = connection.session.subscribeLive(destination.filter, {
        bufferMessagesMax: StompLimits.liveBufferMessages,
        onMessage: (message) => {
          if (selector !== undefined && !selector.matches(message)) return;
          if (!connection.deliverLive(subscription, message)) connection.slowConsumer(subscription);
        },
        onClosed: (error) => {
          if (error !== undefined && connection.subscriptions.get(id) === subscription)
            connection.fail(error);
        },
      });
      return;
    }
    case 'temp-queue': {
      if (selector !== undefined) throw notSupported('a selector on a temporary queue');
      // The id is taken here; deliveries go through the temporary queue's own subscription.
      connection.subscriptions.set(id, { kind: 'live', id, destination, ackMode, live: undefined });
      const ready = ensureTempQueue(connection, destination.name, { id, ackMode, prefetch });
      if (ready instanceof Promise) return ready.then(() => undefined);
      return;
    }
    case 'reply-queue':
      throw new StompProtocolError(`cannot subscribe to '${destinationHeader}'`);
  }
}

function consumerSubscription(
  id: string,
  destination: ConsumerSubscription['destination'],
  ackMode: AckMode,
  durableName: DurableName | undefined,
): ConsumerSubscription {
  return {
    kind: 'consumer',
    id,
    destination,
    ackMode,
    attachment: undefined,
    pending: new Map(),
    owedCredit: 0,
    durableName,
  };
}

function attach(
  connection: StompConnection,
  subscription: ConsumerSubscription,
  ref: ConsumerRef,
  prefetch: number,
): void {
  // The connection may have ended or unsubscribed while the queue was being created.
  if (connection.subscriptions.get(subscription.id) !== subscription || connection.state !== 'connected')
    return;
  subscription.attachment = connection.session.attach(ref.stream, ref.consumer, {
    credit: prefetch,
    creditOnAck: subscription.ackMode !== 'auto',
    onDelivery: (delivery) => connection.deliver(subscription, delivery),
    onClosed: (error) => {
      if (connection.subscriptions.get(subscription.id) !== subscription) return;
      connection.fail(
        error ?? new StompProtocolError(`the consumer behind subscription '${subscription.id}' was deleted`),
      );
    },
  });
}

function prefetchOf(frame: StompFrame): number {
  const value = header(frame, 'prefetch-count') ?? header(frame, 'activemq.prefetchSize');
  if (value === undefined) return StompLimits.prefetchDefault;
  if (!/^[0-9]{1,9}$/.test(value))
    throw new StompProtocolError(`prefetch '${value}' is not a non-negative integer`);
  const prefetch = Number(value);
  // RabbitMQ reads 0 as "unlimited"; Weir bounds every window, so 0 is the largest allowed.
  if (prefetch === 0) return StompLimits.prefetchMax;
  if (prefetch > StompLimits.prefetchMax) {
    throw new StompProtocolError(
      `prefetch ${prefetch} exceeds ${StompLimits.prefetchMax}`,
      ErrorCode.LimitExceeded,
    );
  }
  return prefetch;
}

/** The durable subscription name, in RabbitMQ's or ActiveMQ's dialect, or undefined. */
export function durableNameOf(
  connection: StompConnection,
  frame: StompFrame,
  id: string,
): DurableName | undefined {
  const activeMqName = header(frame, 'activemq.subscriptionName');
  if (activeMqName !== undefined) {
    if (connection.clientId === undefined) {
      throw new StompProtocolError(
        'a durable subscription (activemq.subscriptionName) needs a client-id on CONNECT',
      );
    }
    return { clientId: connection.clientId, subscriptionName: activeMqName };
  }
  if (header(frame, 'durable') === 'true' || header(frame, 'persistent') === 'true') {
    if (header(frame, 'auto-delete') === 'true') {
      throw new StompProtocolError('a durable subscription cannot also be auto-delete');
    }
    // RabbitMQ's dialect has no client id: the `id` names it, kept apart from JMS names.
    return { subscriptionName: `stomp.${id}` };
  }
  return undefined;
}
