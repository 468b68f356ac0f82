// A subscription of the in-process client: messages arrive from the core (push with credit,
// or a live subscription) and leave through a callback or an async iterator.
//
// Callback mode handles one message at a time, in arrival order: a handler that returns
// (or resolves) acks the message unless it settled it itself; one that throws (or rejects)
// nacks it with the error text, counts the failure and reports it to `onError`. The client
// never acks a message whose handler failed.
//
// Iterator mode hands messages to the reader, who settles them. The buffer is bounded: for
// stream subscriptions by the credit granted (prefetch), for live ones by
// `bufferMessagesMax`, past which the slow-consumer policy applies (drop the oldest and
// count it, or end the subscription with WEIR_SLOW_CONSUMER).

import { ErrorCode, WeirError } from '../common/errors.js';
import type { SlowConsumerPolicy } from '../core/api.js';
import type { MessageHandler, ReceivedMessage, Subscription } from './types.js';

export interface SubscriptionOptions {
  readonly callback: MessageHandler | undefined;
  readonly onError: ((error: Error, message: ReceivedMessage | undefined) => void) | undefined;
  /** Live subscriptions only: the buffer bound and what happens past it. */
  readonly bufferMessagesMax?: number;
  readonly slowConsumerPolicy?: SlowConsumerPolicy;
  /** Stops delivery at the source (detach, or close the live subscription). */
  readonly stop: () => void;
}

export class ClientSubscription implements Subscription {
  readonly #options: SubscriptionOptions;
  #buffer: ReceivedMessage[] = [];
  #waiters: ((result: IteratorResult<ReceivedMessage>) => void)[] = [];
  #received = 0;
  #failures = 0;
  #dropped = 0;
  #pumping = false;
  #ended = false;
  #resolveClosed!: () => void;
  #rejectClosed!: (error: Error) => void;
  readonly closed: Promise<void>;

  constructor(options: SubscriptionOptions) {
    this.#options = options;
    this.closed = new Promise<void>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // A subscription that ends with an error must not crash a process that never looked.
    this.closed.catch(() => undefined);
  }

  get received(): number {
    return this.#received;
  }

  get failures(): number {
    return this.#failures;
  }

  /** Live messages dropped by the drop_oldest policy. */
  get dropped(): number {
    return this.#dropped;
  }

  /** A message arrived from the core. */
  push(message: ReceivedMessage): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#received += 1;
      waiter({ value: message, done: false });
      return;
    }
    const limit = this.#options.bufferMessagesMax;
    if (limit !== undefined && this.#buffer.length >= limit) {
      if (this.#options.slowConsumerPolicy === 'disconnect') {
        this.end(new WeirError(ErrorCode.SlowConsumer, `subscription buffer of ${limit} messages is full`));
        return;
      }
      this.#buffer.shift();
      this.#dropped += 1;
    }
    this.#buffer.push(message);
    if (this.#options.callback !== undefined) void this.#pump();
  }

  /** The source ended (closed, consumer deleted, broker closed). */
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#options.stop();
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
    if (error === undefined) this.#resolveClosed();
    else {
      this.#options.onError?.(error, undefined);
      this.#rejectClosed(error);
    }
  }

  close(): Promise<void> {
    this.end();
    return this.closed.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return {
      next: () => {
        const message = this.#buffer.shift();
        if (message !== undefined) {
          this.#received += 1;
          return Promise.resolve({ value: message, done: false });
        }
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  async #pump(): Promise<void> {
    const handler = this.#options.callback;
    if (this.#pumping || handler === undefined) return;
    this.#pumping = true;
    try {
      for (;;) {
        const message = this.#buffer.shift();
        if (message === undefined || this.#ended) return;
        this.#received += 1;
        let failure: Error | undefined;
        try {
          const result = handler(message);
          if (result !== undefined) await result;
        } catch (error) {
          failure = error instanceof Error ? error : new Error(String(error));
          this.#failures += 1;
        }
        try {
          if (!isSettled(message)) {
            if (failure === undefined) message.ack();
            else message.nack({ reason: failure.message });
          }
        } catch (error) {
          // Settling failed (the consumer was deleted): report it too, never hide it.
          this.#options.onError?.(error instanceof Error ? error : new Error(String(error)), message);
        }
        if (failure !== undefined) this.#options.onError?.(failure, message);
      }
    } finally {
      this.#pumping = false;
    }
  }
}

function isSettled(message: ReceivedMessage): boolean {
  return (message as { settled?: boolean }).settled === true;
}
