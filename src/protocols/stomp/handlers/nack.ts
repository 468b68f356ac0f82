// NACK (STOMP 1.2: "NACK", 1.1 and later): the message goes back for redelivery, counted
// towards the consumer's max deliveries and then dead-lettered. Cumulative for ack:client.
import { header, type StompFrame } from '../codec/index.js';
import { StompProtocolError } from '../errors.js';
import type { StompConnection } from '../session.js';
import { ackIdOf, checkAckId, settle } from './acknowledge.js';
import { addToTransaction } from './transaction.js';

export function handleNack(connection: StompConnection, frame: StompFrame): void {
  if (connection.version === '1.0') throw new StompProtocolError('NACK does not exist in STOMP 1.0');
  const ackId = ackIdOf(connection, frame);
  const transaction = header(frame, 'transaction');
  if (transaction !== undefined) {
    checkAckId(connection, ackId);
    addToTransaction(connection, transaction, { kind: 'nack', ackId }, ackId.length);
    return;
  }
  settle(connection, ackId, 'nack');
}
