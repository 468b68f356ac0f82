// ACK and NACK share this: find the delivery an ack id names and settle it (and, for
// `ack:client` subscriptions, every earlier unacked delivery of the same subscription:
// STOMP 1.2 "SUBSCRIBE ack Header": client acknowledgements are cumulative).
import { ErrorCode } from '../../../common/errors.js';
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader, StompProtocolError } from '../errors.js';
import type { PendingAck, StompConnection } from '../session.js';

/** The ack id of an ACK/NACK: `id` in 1.2, `message-id` in 1.0 and 1.1. */
export function ackIdOf(connection: StompConnection, frame: StompFrame): string {
  const name = connection.version === '1.2' ? 'id' : 'message-id';
  const ackId = header(frame, name) ?? (connection.version === '1.2' ? undefined : header(frame, 'id'));
  if (ackId === undefined) throw missingHeader(frame.command, name);
  return ackId;
}

/** Live (non-durable topic, temporary queue) deliveries are at-most-once: their ACK settles nothing. */
export function isLiveAckId(ackId: string): boolean {
  return ackId.endsWith('.live');
}

/** The deliveries an ACK/NACK of `ackId` settles, oldest first; throws for an unknown id. */
export function deliveriesFor(connection: StompConnection, ackId: string): PendingAck[] {
  const pending = connection.pendingAcks.get(ackId);
  if (pending === undefined) {
    throw new StompProtocolError(
      `no unacknowledged message has ack id '${ackId}' on this connection`,
      ErrorCode.StaleAck,
    );
  }
  const { subscription } = pending;
  if (subscription.ackMode !== 'client') return [pending];
  const settled: PendingAck[] = [];
  for (const entry of subscription.pending.values()) {
    settled.push(entry);
    if (entry.ackId === ackId) break;
  }
  return settled;
}

/** Settles the deliveries an ACK/NACK of `ackId` names; returns their ack ids. */
export function settle(connection: StompConnection, ackId: string, kind: 'ack' | 'nack'): string[] {
  if (isLiveAckId(ackId)) return [];
  const session = connection.session;
  const entries = deliveriesFor(connection, ackId);
  for (const entry of entries) {
    entry.subscription.pending.delete(entry.ackId);
    connection.pendingAcks.delete(entry.ackId);
    if (kind === 'ack') session.ack(entry.delivery);
    else session.nack(entry.delivery, { reason: 'NACK from a STOMP client' });
  }
  return entries.map((entry) => entry.ackId);
}

/**
 * Takes the deliveries an ACK/NACK of `ackId` names out of the ack tables, for a transaction
 * that settles them later: a later ACK of the same id is then unknown, as it would be after
 * a plain ACK.
 */
export function takeForTransaction(connection: StompConnection, ackId: string): PendingAck[] {
  if (isLiveAckId(ackId)) return [];
  const entries = deliveriesFor(connection, ackId);
  for (const entry of entries) {
    entry.subscription.pending.delete(entry.ackId);
    connection.pendingAcks.delete(entry.ackId);
  }
  return entries;
}
