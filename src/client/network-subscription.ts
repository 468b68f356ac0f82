// Subscription (types.ts) for the network client: an async iterator, or a callback called
// one message at a time in order. A callback that returns (or resolves) acks its message
// unless it settled it itself; one that throws (or rejects) nacks it with the error text,
// counts the failure and reports it (onError, else the client's 'error' event when someone
// listens): the client never acks a message whose handler failed.
//
// Each message handed to the application returns one credit to the broker, in batches of
// half the prefetch window, so the broker never sends more than the window ahead of what
// the application has taken and the client's buffer stays bounded. Live subscriptions are
// bounded by `bufferMessagesMax` and the slow-consumer policy instead.

import { ErrorCode, WeirError } from '../common/errors.js';
import type { SlowConsumerPolicy } from '../core/api.js';
import type { NetworkMessage } from './network-message.js';
import type { MessageHandler, ReceivedMessage, Subscription } from './types.js';

export interface SubscriptionHooks {
  /** `count` messages were handed to the application. */
  consumed(subscription: NetworkSubscription, count: number): void;
  /** The application closed the subscription: detach at the broker. */
  detach(subscription: NetworkSubscription): void;
  /** A handler failed and no onError was given. */
  handlerFailed(error: Error, message: ReceivedMessage): void;
}

export interface SubscriptionSettings {
  readonly id: number;
  readonly kind: 'push' | 'live';
  readonly callback: MessageHandler | undefined;
  readonly onError: ((error: Error, message: ReceivedMessage | undefined) => void) | undefined;
  readonly bufferMessagesMax: number;
  readonly slowConsumerPolicy: SlowConsumerPolicy;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class NetworkSubscription implements Subscription {
  readonly id: number;
  readonly kind: 'push' | 'live';
  readonly closed: Promise<void>;
  readonly #settings: SubscriptionSettings;
  readonly #hooks: SubscriptionHooks;
  #queue: NetworkMessage[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<ReceivedMessage>) => void) | undefined;
  #processing = false;
  #ended = false;
  #received = 0;
  #failures = 0;
  #dropped = 0;
  #resolveClosed!: () => void;
  #rejectClosed!: (error: Error) => void;

  constructor(settings: SubscriptionSettings, hooks: SubscriptionHooks) {
    this.id = settings.id;
    this.kind = settings.kind;
    this.#settings = settings;
    this.#hooks = hooks;
    this.closed = new Promise<void>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // An error end must not crash a process that never looked at `closed`.
    this.closed.catch(() => undefined);
  }

  get received(): number {
    return this.#received;
  }

  get failures(): number {
    return this.#failures;
  }

  /**
   * Live messages dropped under the slow-consumer policy `drop_oldest`: by the broker (its
   * LIVE_DELIVER frames carry the count) or here, because the application fell behind.
   */
  get dropped(): number {
    return this.#dropped;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Messages received and not yet handed to the application. */
  get queuedCount(): number {
    return this.#queue.length - this.#head;
  }

  // ---- fed by the client ----

  /** The broker dropped `count` messages of this live subscription before it could send them. */
  droppedByBroker(count: number): void {
    this.#dropped += count;
  }

  enqueue(messages: readonly NetworkMessage[]): void {
    if (this.#ended) return;
    for (const message of messages) {
      if (this.kind === 'live' && this.queuedCount >= this.#settings.bufferMessagesMax) {
        if (this.#settings.slowConsumerPolicy === 'disconnect') {
          this.#hooks.detach(this);
          this.end(
            new WeirError(
              ErrorCode.SlowConsumer,
              `subscription buffer of ${this.#settings.bufferMessagesMax} messages is full`,
            ),
          );
          return;
        }
        this.#head++;
        this.#dropped++;
      }
      this.#queue.push(message);
    }
    if (this.#settings.callback !== undefined) this.#runHandler();
    else this.#wake();
  }

  /** After a lost connection: what was not yet handed out is redelivered by the broker. */
  dropQueued(): void {
    if (this.kind === 'push') {
      this.#queue = [];
      this.#head = 0;
    }
  }

  /** The subscription is over: closed by the application, or by the broker with `error`. */
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.kind === 'push') {
      // Undelivered push messages go back to the broker with the attachment.
      this.#queue = [];
      this.#head = 0;
    }
    this.#wake();
    if (error === undefined) this.#resolveClosed();
    else {
      this.#settings.onError?.(error, undefined);
      this.#rejectClosed(error);
    }
  }

  // ---- the application's side ----

  close(): Promise<void> {
    if (!this.#ended) {
      this.#hooks.detach(this);
      this.end();
    }
    return this.closed.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return {
      next: () => {
        const message = this.#take();
        if (message !== undefined) return Promise.resolve({ done: false, value: message });
        if (this.#ended) return Promise.resolve({ done: true, value: undefined });
        if (this.#waiter !== undefined) {
          return Promise.reject(
            new WeirError(ErrorCode.InvalidArgument, 'one next() at a time per subscription'),
          );
        }
        return new Promise((resolve) => (this.#waiter = resolve));
      },
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  #take(): NetworkMessage | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const message = this.#queue[this.#head] as NetworkMessage;
    this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#received++;
    this.#hooks.consumed(this, 1);
    return message;
  }

  #wake(): void {
    const resolve = this.#waiter;
    if (resolve === undefined) return;
    const message = this.#take();
    if (message !== undefined) {
      this.#waiter = undefined;
      resolve({ done: false, value: message });
    } else if (this.#ended) {
      this.#waiter = undefined;
      resolve({ done: true, value: undefined });
    }
  }

  #runHandler(): void {
    if (this.#processing) return;
    this.#processing = true;
    const handler = this.#settings.callback as MessageHandler;
    for (;;) {
      if (this.#ended && this.kind === 'push') break;
      const message = this.#take();
      if (message === undefined) break;
      let result: unknown;
      try {
        result = handler(message);
      } catch (error) {
        this.#failed(message, error);
        continue;
      }
      if (isThenable(result)) {
        result.then(
          () => {
            this.#succeeded(message);
            this.#processing = false;
            this.#runHandler();
          },
          (error: unknown) => {
            this.#failed(message, error);
            this.#processing = false;
            this.#runHandler();
          },
        );
        return;
      }
      this.#succeeded(message);
    }
    this.#processing = false;
  }

  #succeeded(message: NetworkMessage): void {
    if (!message.settled) message.ack();
  }

  #failed(message: NetworkMessage, thrown: unknown): void {
    const error = asError(thrown);
    this.#failures++;
    if (!message.settled) message.nack({ reason: error.message });
    if (this.#settings.onError !== undefined) this.#settings.onError(error, message);
    else this.#hooks.handlerFailed(error, message);
  }
}
