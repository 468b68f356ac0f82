// A transaction of the network client: publishes and acks gathered on the client and sent
// whole in one TRANSACTION_COMMIT frame, which the broker applies as one core transaction —
// all or nothing. Nothing is visible to consumers before commit; abort sends nothing and
// nacks the messages it had acked, so they are redelivered at once. A commit whose
// connection is lost before the answer fails with WEIR_CLOSED, and whether it was applied
// is then unknown (as with any transaction whose outcome never arrives). A transaction is
// bounded by the broker's frame size.

import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import type { PublishAck } from '../core/api.js';
import type { TransactionAck, WirePublish } from '../protocols/native/codec/index.js';
import { NetworkMessage } from './network-message.js';
import type { Body, PublishOptions, ReceivedMessage } from './types.js';

export type CommitTransaction = (
  messages: readonly WirePublish[],
  acks: readonly TransactionAck[],
  timeoutMs: number,
) => Promise<PublishAck[]>;

export class NetworkTransaction {
  readonly #commit: CommitTransaction;
  readonly #timeoutMs: number;
  #messages: WirePublish[] = [];
  #acks: TransactionAck[] = [];
  #acked: NetworkMessage[] = [];
  #finished = false;

  constructor(commit: CommitTransaction, timeoutMs: number) {
    this.#commit = commit;
    this.#timeoutMs = timeoutMs;
  }

  /** Buffers a message; it is stored only if the transaction commits. */
  publish(subject: string, body: Body = '', options?: PublishOptions): void {
    this.#checkOpen();
    this.#messages.push({ ...options, subject, body });
  }

  /** Acks a stream message when the transaction commits (its handler will not ack it again). */
  ack(message: ReceivedMessage): void {
    this.#checkOpen();
    if (!(message instanceof NetworkMessage) || message.stream === undefined) {
      throw new InvalidArgumentError(
        'only a stream message received by this client can be acked in a transaction',
      );
    }
    message.settled = true;
    this.#acked.push(message);
    this.#acks.push({
      stream: message.stream,
      consumer: message.consumer as string,
      partition: message.partition as number,
      offset: message.offset as number,
      deliveryCount: message.deliveryCount,
    });
  }

  /** Applies everything at once; resolves with where each published message was stored. */
  async commit(): Promise<PublishAck[]> {
    this.#checkOpen();
    this.#finished = true;
    return this.#commit(this.#messages, this.#acks, this.#timeoutMs);
  }

  /** Discards the publishes; the messages it acked are redelivered. */
  abort(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const message of this.#acked) {
      message.settled = false;
      message.nack({ reason: 'transaction aborted' });
    }
  }

  #checkOpen(): void {
    if (this.#finished)
      throw new WeirError(ErrorCode.TransactionAborted, 'the transaction is already finished');
  }
}
