// SEND (STOMP 1.2: "SEND"). Without a receipt the message is published fire-and-forget;
// with one, the RECEIPT waits until the core confirms it durable (DESIGN.md §6: receipts
// confirm durability). Inside a transaction it joins the core transaction (see commit.ts).
import { ErrorCode, isWeirError } from '../../../common/errors.js';
import { header, type StompFrame } from '../codec/index.js';
import { missingHeader, StompProtocolError } from '../errors.js';
import { parseDestination, sendToPublishInput, type Destination } from '../mapping.js';
import { publishDurable, publishSubject, resolveReplyTo } from '../resolve.js';
import type { StompConnection } from '../session.js';
import { holdInTransaction, openTransaction } from './transaction.js';

export function handleSend(connection: StompConnection, frame: StompFrame): void | Promise<void> {
  const destinationHeader = header(frame, 'destination');
  if (destinationHeader === undefined) throw missingHeader('SEND', 'destination');
  const destination = parseDestination(destinationHeader, false);
  if (header(frame, 'selector') !== undefined) {
    throw new StompProtocolError('a SEND frame does not take a selector header', ErrorCode.InvalidArgument);
  }
  const subject = publishSubject(connection, destination);
  if (subject instanceof Promise)
    return subject.then((resolved) => send(connection, frame, destination, resolved));
  return send(connection, frame, destination, subject);
}

function send(
  connection: StompConnection,
  frame: StompFrame,
  destination: Destination,
  subject: string,
): void | Promise<void> {
  const replyTo = resolveReplyTo(connection, header(frame, 'reply-to'));
  if (replyTo instanceof Promise) {
    return replyTo.then((resolved) => publish(connection, frame, destination, subject, resolved));
  }
  publish(connection, frame, destination, subject, replyTo);
}

function publish(
  connection: StompConnection,
  frame: StompFrame,
  destination: Destination,
  subject: string,
  replyTo: string | undefined,
): void {
  const { input, bytes } = sendToPublishInput(frame, subject, replyTo);
  const transactionId = header(frame, 'transaction');
  if (transactionId !== undefined) {
    const transaction = openTransaction(connection, transactionId);
    try {
      transaction.core.publish(input);
    } catch (error) {
      // Only live subscribers can take it: held here, published when the COMMIT succeeds.
      if (!isWeirError(error, ErrorCode.NoStream) || destination.kind === 'queue') throw error;
      holdInTransaction(transaction, transactionId, bytes);
      transaction.live.push(input);
    }
    return;
  }
  if (header(frame, 'receipt') !== undefined) {
    connection.trackConfirm(publishDurable(connection, input, destination), frame);
    return;
  }
  connection.session.publish(input);
}
