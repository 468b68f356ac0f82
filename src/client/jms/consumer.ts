// MessageConsumer: receive(), receive(timeout), receiveNoWait(), or a message listener.
// Nothing is handed out while the connection is stopped. A listener that throws has its
// message nacked (redelivered) and the error goes to the connection's exception listener;
// it is never acked.

import { ErrorCode, WeirError } from '../../common/errors.js';
import type { ReceivedMessage } from '../types.js';
import type { Subscription } from '../types.js';
import type { Destination } from './destinations.js';
import type { Message } from './messages.js';
import type { Session } from './session.js';

function isSettled(message: ReceivedMessage): boolean {
  return (message as { settled?: boolean }).settled === true;
}

export type MessageListener = (message: Message) => unknown;

export class MessageConsumer {
  readonly destination: Destination;
  readonly #session: Session;
  readonly #subscription: Subscription;
  readonly #iterator: AsyncIterator<ReceivedMessage>;
  /** A next() still outstanding after a receive timed out: the next receive takes it over. */
  #pendingNext: Promise<IteratorResult<ReceivedMessage>> | undefined;
  #listener: MessageListener | undefined;
  #listening = false;
  #closed = false;

  constructor(session: Session, subscription: Subscription, destination: Destination) {
    this.#session = session;
    this.#subscription = subscription;
    this.destination = destination;
    this.#iterator = subscription[Symbol.asyncIterator]();
  }

  /** Not supported until broker core II brings selectors. */
  get messageSelector(): string | undefined {
    return undefined;
  }

  /**
   * The next message; waits up to `timeoutMs` (forever when absent or 0, as JMS) and
   * resolves null on timeout or when the consumer is closed.
   */
  async receive(timeoutMs?: number): Promise<Message | null> {
    if (this.#listener !== undefined) {
      throw new WeirError(
        ErrorCode.InvalidArgument,
        'this consumer has a message listener; receive() is not allowed',
      );
    }
    if (this.#closed) return null;
    const deadlineMs = timeoutMs === undefined || timeoutMs === 0 ? undefined : Date.now() + timeoutMs;
    const connection = this.#session.connection;
    if (!connection.started) {
      if (
        !(await this.#within(
          connection.whenStarted().then(() => true),
          deadlineMs,
        ))
      )
        return null;
    }
    const next = (this.#pendingNext ??= this.#iterator.next());
    const result = await this.#within(next, deadlineMs);
    if (result === false) return null;
    this.#pendingNext = undefined;
    if (result.done === true) return null;
    return this.#session.delivered(result.value, this.destination);
  }

  /** A message if one is already here, else null. */
  receiveNoWait(): Promise<Message | null> {
    return this.receive(1);
  }

  get messageListener(): MessageListener | undefined {
    return this.#listener;
  }

  setMessageListener(listener: MessageListener | undefined): void {
    this.#listener = listener;
    if (listener !== undefined && !this.#listening) void this.#listen();
  }

  async #listen(): Promise<void> {
    this.#listening = true;
    try {
      while (this.#listener !== undefined && !this.#closed) {
        await this.#session.connection.whenStarted();
        const result = await (this.#pendingNext ??= this.#iterator.next());
        this.#pendingNext = undefined;
        if (result.done === true) break;
        const received = result.value;
        const message = this.#session.delivered(received, this.destination, 'listener');
        const listener = this.#listener;
        if (listener === undefined) {
          received.nack();
          break;
        }
        try {
          await listener(message);
          this.#session.listenerReturned(message);
        } catch (error) {
          if (!isSettled(received))
            received.nack({ reason: error instanceof Error ? error.message : String(error) });
          this.#session.connection.reportException(error);
        }
      }
    } catch (error) {
      if (!this.#closed) this.#session.connection.reportException(error);
    } finally {
      this.#listening = false;
    }
  }

  /** Resolves `promise`, or false once `deadlineMs` passes. */
  #within<T>(promise: Promise<T>, deadlineMs: number | undefined): Promise<T | false> {
    if (deadlineMs === undefined) return promise;
    const remainingMs = Math.max(0, deadlineMs - Date.now());
    return new Promise((resolve, reject) => {
      const timer = this.#session.connection.client.clock.setTimeout(() => resolve(false), remainingMs);
      promise.then(
        (value) => {
          timer.cancel();
          resolve(value);
        },
        (error: unknown) => {
          timer.cancel();
          reject(error);
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener = undefined;
    await this.#subscription.close();
  }
}
