// Helpers for frames inside a transaction (the `transaction` header on SEND, ACK, NACK).
import { ErrorCode } from '../../../common/errors.js';
import { StompLimits } from '../../../common/limits.js';
import { StompProtocolError } from '../errors.js';
import type { StompConnection, Transaction, TransactionStep } from '../session.js';

export function takeTransaction(connection: StompConnection, id: string): Transaction {
  const transaction = connection.transactions.get(id);
  if (transaction === undefined) {
    throw new StompProtocolError(`transaction '${id}' is not open`, ErrorCode.TransactionNotFound);
  }
  connection.transactions.delete(id);
  return transaction;
}

export function addToTransaction(
  connection: StompConnection,
  id: string,
  step: TransactionStep,
  bytes: number,
): void {
  const transaction = connection.transactions.get(id);
  if (transaction === undefined) {
    throw new StompProtocolError(`transaction '${id}' is not open`, ErrorCode.TransactionNotFound);
  }
  if (transaction.steps.length >= StompLimits.transactionFramesMax) {
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
  transaction.steps.push(step);
  transaction.bytes += bytes;
}
