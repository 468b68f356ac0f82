// NACK (STOMP 1.2: "NACK", 1.1 and later): the message goes back for redelivery, counted
// towards the consumer's max deliveries and then dead-lettered. Cumulative for ack:client.
// Inside a transaction it is applied once the COMMIT succeeded (see commit.ts).
import { header, type StompFrame } from '../codec/index.js';
import { StompProtocolError } from '../errors.js';
import type { StompConnection } from '../session.js';
import { ackIdOf, settle, takeForTransaction } from './acknowledge.js';
import { holdInTransaction, openTransaction } from './transaction.js';

export function handleNack(connection: StompConnection, frame: StompFrame): void {
  if (connection.version === '1.0') throw new StompProtocolError('NACK does not exist in STOMP 1.0');
  const ackId = ackIdOf(connection, frame);
  const id = header(frame, 'transaction');
  if (id !== undefined) {
    const transaction = openTransaction(connection, id);
    holdInTransaction(transaction, id, ackId.length);
    transaction.nacks.push(...takeForTransaction(connection, ackId));
    return;
  }
  settle(connection, ackId, 'nack');
}
