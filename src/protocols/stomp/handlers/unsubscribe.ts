// UNSUBSCRIBE (STOMP 1.2: "UNSUBSCRIBE"): detaches; the core redelivers what was unacked.
// With `durable:true` (RabbitMQ) or `activemq.subscriptionName` (ActiveMQ) it also deletes
// the durable subscription and what it kept.
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader, StompProtocolError } from '../errors.js';
import type { StompConnection } from '../session.js';
import { StompLimits } from '../../../common/limits.js';
import { ensureTempQueue } from '../resolve.js';
import { durableNameOf } from './subscribe.js';

export function handleUnsubscribe(connection: StompConnection, frame: StompFrame): void | Promise<void> {
  const id = header(frame, 'id') ?? (connection.version === '1.0' ? header(frame, 'destination') : undefined);
  if (id === undefined) throw missingHeader('UNSUBSCRIBE', 'id');
  const subscription = connection.subscriptions.get(id);
  const durableName = durableNameOf(connection, frame, id);
  if (subscription === undefined && durableName === undefined) {
    throw new StompProtocolError(`no subscription has id '${id}' on this connection`);
  }
  if (subscription !== undefined) {
    connection.subscriptions.delete(id);
    if (subscription.kind === 'consumer') {
      subscription.attachment?.close();
      connection.forgetPending(subscription);
    } else if (subscription.destination.kind === 'temp-queue') {
      // The temporary queue lives on with the connection, delivering as if never subscribed.
      const name = subscription.destination.name;
      const ready = ensureTempQueue(connection, name, {
        id: `/temp-queue/${name}`,
        ackMode: 'auto',
        prefetch: StompLimits.prefetchDefault,
      });
      if (ready instanceof Promise && durableName === undefined) return ready.then(() => undefined);
    } else {
      connection.closeLive(subscription);
    }
  }
  if (durableName !== undefined) {
    return connection.context.core.deleteDurableSubscription(durableName).then(() => undefined);
  }
}
