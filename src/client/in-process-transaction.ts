// A transaction of the in-process client: the Client's ClientTransaction over a core
// Transaction (src/core/transaction.ts). Publishes and acks go to the core as they are
// made; the core holds them until commit, and abort returns the acked messages to their
// consumers for redelivery.

import { InvalidArgumentError } from '../common/errors.js';
import type { PublishAck, Transaction } from '../core/api.js';
import { StreamMessage } from './received-message.js';
import type { Body, ClientTransaction, PublishOptions, ReceivedMessage } from './types.js';

export class InProcessTransaction implements ClientTransaction {
  readonly #transaction: Transaction;
  #acked: StreamMessage[] = [];

  constructor(transaction: Transaction) {
    this.#transaction = transaction;
  }

  publish(subject: string, body: Body = '', options: PublishOptions = {}): void {
    this.#transaction.publish({ ...options, subject, body });
  }

  ack(message: ReceivedMessage): void {
    if (!(message instanceof StreamMessage)) {
      throw new InvalidArgumentError(
        'only a stream message received by this client can be acked in a transaction',
      );
    }
    this.#transaction.ack(message.delivery);
    // Its handler must not ack it outside the transaction; abort gives it back to the consumer.
    message.settled = true;
    this.#acked.push(message);
  }

  commit(): Promise<PublishAck[]> {
    return this.#transaction.commit();
  }

  abort(): Promise<void> {
    return this.#transaction.abort();
  }
}
