// A subscription as the application sees it: an async iterator, or a handler called one
// message at a time in order. A handler that throws (or rejects) nacks its message with the
// error text and reports the error (onError, else the client's 'error' event): the client
// never swallows it and never acks a message whose handler failed. A handler that returns
// normally acks its message unless `ack: 'manual'` was asked for or it settled it itself.
//
// Each message handed out (to the iterator or the handler) returns one credit to the
// broker, in batches, so the broker never sends more than the prefetch window ahead of
// what the application has taken.

import { ErrorCode, WeirError } from '../common/errors.js';
import type { ReceivedMessage } from './network-message.js';

export type MessageHandler = (message: ReceivedMessage) => unknown;

export interface SubscriptionHooks {
  /** `count` messages were handed to the application. */
  consumed(subscription: Subscription, count: number): void;
  /** The application closed the subscription. */
  detach(subscription: Subscription): Promise<void>;
  /** A handler failed; its message was nacked. */
  handlerFailed(subscription: Subscription, message: ReceivedMessage, error: unknown): void;
}

export interface SubscriptionSettings {
  readonly id: number;
  readonly kind: 'push' | 'live';
  /** What it is attached to: `stream/consumer`, or the subject filter of a live subscription. */
  readonly target: string;
  readonly handler: MessageHandler | undefined;
  /** Ack after the handler returns. */
  readonly autoAck: boolean;
  /** Messages held for a live subscription the application is not keeping up with (oldest dropped). */
  readonly bufferMessagesMax: number;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 4096 ? `${text.slice(0, 4093)}...` : text;
}

export class Subscription implements AsyncIterable<ReceivedMessage> {
  readonly id: number;
  readonly kind: 'push' | 'live';
  readonly target: string;
  readonly #settings: SubscriptionSettings;
  readonly #hooks: SubscriptionHooks;
  #queue: ReceivedMessage[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<ReceivedMessage>) => void) | undefined;
  #waiterReject: ((error: unknown) => void) | undefined;
  #processing = false;
  #ended = false;
  #endError: WeirError | undefined;
  #droppedCount = 0;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(settings: SubscriptionSettings, hooks: SubscriptionHooks) {
    this.id = settings.id;
    this.kind = settings.kind;
    this.target = settings.target;
    this.#settings = settings;
    this.#hooks = hooks;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Messages of a live subscription dropped because the application fell behind. */
  get droppedCount(): number {
    return this.#droppedCount;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Why the broker ended the subscription, if it did. */
  get error(): WeirError | undefined {
    return this.#endError;
  }

  /** Resolves once the subscription has ended and its handler has finished. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Messages received and not yet handed to the application. */
  get queuedCount(): number {
    return this.#queue.length - this.#head;
  }

  // ---- fed by the client ----

  enqueue(messages: readonly ReceivedMessage[]): void {
    if (this.#ended) return;
    for (const message of messages) {
      if (this.kind === 'live' && this.queuedCount >= this.#settings.bufferMessagesMax) {
        this.#head++;
        this.#droppedCount++;
      }
      this.#queue.push(message);
    }
    this.#compact();
    if (this.#settings.handler !== undefined) this.#runHandler();
    else this.#wake();
  }

  /** After a lost connection: what was not yet handed out will be redelivered by the broker. */
  dropQueued(): void {
    if (this.kind === 'push') {
      this.#queue = [];
      this.#head = 0;
    }
  }

  /** The subscription is over (closed by the application, or by the broker with `error`). */
  end(error?: WeirError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endError = error;
    if (this.kind === 'push') {
      // Undelivered push messages go back to the broker with the attachment; drop them here.
      this.#queue = [];
      this.#head = 0;
    }
    this.#wake();
    if (!this.#processing) this.#resolveDone();
  }

  // ---- the application's side ----

  /** Detaches from the broker; messages already handed out may still be acked. */
  async close(): Promise<void> {
    if (this.#ended) return;
    this.end();
    await this.#hooks.detach(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    if (this.#settings.handler !== undefined) {
      throw new WeirError(ErrorCode.InvalidArgument, 'a subscription with a handler cannot also be iterated');
    }
    return {
      next: () => this.#next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  #next(): Promise<IteratorResult<ReceivedMessage>> {
    if (this.#waiter !== undefined) {
      return Promise.reject(
        new WeirError(ErrorCode.InvalidArgument, 'one next() at a time per subscription'),
      );
    }
    const message = this.#take();
    if (message !== undefined) return Promise.resolve({ done: false, value: message });
    if (this.#ended) {
      if (this.#endError !== undefined) return Promise.reject(this.#endError);
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  #take(): ReceivedMessage | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const message = this.#queue[this.#head] as ReceivedMessage;
    this.#head++;
    this.#compact();
    this.#hooks.consumed(this, 1);
    return message;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #wake(): void {
    const resolve = this.#waiter;
    if (resolve === undefined) return;
    const reject = this.#waiterReject as (error: unknown) => void;
    const message = this.#take();
    if (message !== undefined) {
      this.#waiter = undefined;
      this.#waiterReject = undefined;
      resolve({ done: false, value: message });
    } else if (this.#ended) {
      this.#waiter = undefined;
      this.#waiterReject = undefined;
      if (this.#endError !== undefined) reject(this.#endError);
      else resolve({ done: true, value: undefined });
    }
  }

  #runHandler(): void {
    if (this.#processing) return;
    this.#processing = true;
    const handler = this.#settings.handler as MessageHandler;
    for (;;) {
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
            this.#resume();
          },
          (error: unknown) => {
            this.#failed(message, error);
            this.#resume();
          },
        );
        return;
      }
      this.#succeeded(message);
    }
    this.#processing = false;
    if (this.#ended) this.#resolveDone();
  }

  #resume(): void {
    this.#processing = false;
    if (this.#ended && this.queuedCount === 0) {
      this.#resolveDone();
      return;
    }
    this.#runHandler();
  }

  #succeeded(message: ReceivedMessage): void {
    if (this.#settings.autoAck && !message.settled) message.ack();
  }

  #failed(message: ReceivedMessage, error: unknown): void {
    if (!message.settled) message.nack({ reason: reasonOf(error) });
    this.#hooks.handlerFailed(this, message, error);
  }
}
