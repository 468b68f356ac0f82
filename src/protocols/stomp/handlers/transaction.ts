// Helpers for frames inside a transaction (the `transaction` header on SEND, ACK, NACK).
import { ErrorCode } from '../../../common/errors.js';
import { StompLimits } from '../../../common/limits.js';
import { StompProtocolError } from '../errors.js';
import type { StompConnection, Transaction } from '../session.js';

export function openTransaction(connection: StompConnection, id: string): Transaction {
  const transaction = connection.transactions.get(id);
  if (transaction === undefined) {
    throw new StompProtocolError(`transaction '${id}' is not open`, ErrorCode.TransactionNotFound);
  }
  return transaction;
}

export function takeTransaction(connection: StompConnection, id: string): Transaction {
  const transaction = openTransaction(connection, id);
  connection.transactions.delete(id);
  return transaction;
}

/** Counts a frame the adapter itself holds for the transaction (live SEND, NACK) against its limits. */
export function holdInTransaction(transaction: Transaction, id: string, bytes: number): void {
  if (transaction.frames >= StompLimits.transactionFramesMax) {
    throw new StompProtocolError(
      `transaction '${id}' holds more than ${StompLimits.transactionFramesMax} frames`,
      ErrorCode.LimitExceeded,
    );
  }
  if (transaction.bytes + bytes > StompLimits.transactionBytesMax) {
    throw new StompProtocolError(
      `transaction '${id}' holds more than ${StompLimits.transactionBytesMax} bytes`,
      ErrorCode.LimitExceeded,
    );
  }
  transaction.frames++;
  transaction.bytes += bytes;
}
