// Request-reply and temporary destinations, owned by one session (DESIGN.md §1: inbox).
//
// Each session gets, on first use, an inbox: the subject prefix `$INBOX.<token>` with a
// 128-bit random token nobody can guess, and one live subscription on `$INBOX.<token>.>`.
// `request` publishes with `replyTo = $INBOX.<token>.<n>` and a correlation id, and resolves
// with the first message published to that subject; a responder simply publishes to the
// request's `replyTo`. It fails with
// - WEIR_NO_RESPONDERS at once when nothing took the request: no stream captures the subject
//   and no live subscription matched it;
// - WEIR_TIMEOUT when no reply came within `timeoutMs` (from the Clock);
// - WEIR_CLOSED when the session closes first.
// Late or repeated replies are dropped (counted in `lateReplies`).
//
// Temporary destinations (JMS TemporaryQueue/TemporaryTopic, STOMP /temp-queue/):
// - a temporary topic is a subject under the inbox prefix: live subscriptions only, no
//   storage, so there is nothing to delete;
// - a temporary queue is a memory `workqueue` stream capturing `$TMPQ.<token>.<n>` with one
//   shared consumer of the same name, deleted when the session closes.
//
// Both prefixes start with `$`, the broker's reserved namespace (subject.ts): a filter whose
// first token is a wildcard never matches them, so a catch-all subscriber (`>` natively,
// MQTT `#`) sees no one else's replies, and the `topic-…` stream of a persistent `#`
// subscription never overlaps a temporary queue's stream (streams may not overlap).

import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type { LiveSubscription, Message, PublishInput, RequestOptions, TemporaryQueue } from './api.js';

/** What the inbox needs from its session and broker. */
export interface InboxHost {
  readonly clock: Clock;
  readonly sessionId: string;
  /** Publishes; returns how many took it (a capturing stream counts one, plus live subscribers). */
  publish(input: PublishInput): number;
  subscribeLive(filter: string, onMessage: (message: Message) => void): LiveSubscription;
  addTemporaryQueue(stream: string, subject: string): Promise<void>;
  deleteTemporaryQueue(stream: string): Promise<void>;
}

export const temporaryQueuePrefix = '$TMPQ.';

/** Temporary queues are never persisted: they end with their session. */
export function isTemporaryQueue(config: { readonly subjects: readonly string[] }): boolean {
  return config.subjects.length === 1 && config.subjects[0]!.startsWith(temporaryQueuePrefix);
}

interface PendingRequest {
  readonly resolve: (message: Message) => void;
  readonly reject: (error: Error) => void;
  readonly timer: TimerHandle;
}

export class Inbox {
  readonly prefix: string;
  lateReplies = 0;
  readonly #token: string;
  readonly #host: InboxHost;
  readonly #pending = new Map<string, PendingRequest>();
  readonly #temporaryQueues = new Set<string>();
  #subscription: LiveSubscription | undefined;
  #next = 0;
  #closed = false;

  constructor(host: InboxHost) {
    this.#host = host;
    this.#token = randomBytes(16).toString('hex');
    this.prefix = `$INBOX.${this.#token}`;
  }

  request(subject: string, body: PublishInput['body'], options: RequestOptions): Promise<Message> {
    this.#assertOpen();
    const timeoutMs = options.timeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > Limits.requestTimeoutMsMax) {
      throw new InvalidArgumentError(`timeoutMs must be an integer from 1 to ${Limits.requestTimeoutMsMax}`);
    }
    if (this.#pending.size >= Limits.requestsPendingPerSessionMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `a session may wait for at most ${Limits.requestsPendingPerSessionMax} replies at once`,
      );
    }
    this.#subscribe();
    const replyTo = `${this.prefix}.${this.#next++}`;
    const { timeoutMs: _timeoutMs, ...fields } = options;
    const taken = this.#host.publish({
      ...fields,
      subject,
      body,
      replyTo,
      correlationId: options.correlationId ?? replyTo,
    });
    if (taken === 0) {
      return Promise.reject(new WeirError(ErrorCode.NoResponders, `no responders for subject '${subject}'`));
    }
    return new Promise<Message>((resolve, reject) => {
      const timer = this.#host.clock.setTimeout(() => {
        this.#pending.delete(replyTo);
        reject(new WeirError(ErrorCode.Timeout, `no reply to '${subject}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(replyTo, { resolve, reject, timer });
    });
  }

  /** A subject under this session's inbox for a temporary topic. */
  temporaryTopic(): string {
    this.#assertOpen();
    return `${this.prefix}.t${this.#next++}`;
  }

  async temporaryQueue(): Promise<TemporaryQueue> {
    this.#assertOpen();
    if (this.#temporaryQueues.size >= Limits.temporaryQueuesPerSessionMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `a session may own at most ${Limits.temporaryQueuesPerSessionMax} temporary queues`,
      );
    }
    const number = this.#next++;
    const stream = `tmp-${this.#token.slice(0, 16)}-${number}`;
    const subject = `${temporaryQueuePrefix}${this.#token}.${number}`;
    this.#temporaryQueues.add(stream);
    try {
      await this.#host.addTemporaryQueue(stream, subject);
    } catch (error) {
      this.#temporaryQueues.delete(stream);
      throw error;
    }
    return { subject, stream, consumer: stream };
  }

  /** Fails waiting requests and deletes temporary queues. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription?.close();
    for (const [replyTo, pending] of this.#pending) {
      pending.timer.cancel();
      pending.reject(
        new WeirError(ErrorCode.Closed, `session closed while waiting for a reply on ${replyTo}`),
      );
    }
    this.#pending.clear();
    for (const stream of this.#temporaryQueues) await this.#host.deleteTemporaryQueue(stream);
    this.#temporaryQueues.clear();
  }

  #subscribe(): void {
    if (this.#subscription !== undefined) return;
    this.#subscription = this.#host.subscribeLive(`${this.prefix}.>`, (message) => {
      const pending = this.#pending.get(message.subject);
      if (pending === undefined) {
        this.lateReplies += 1;
        return;
      }
      this.#pending.delete(message.subject);
      pending.timer.cancel();
      pending.resolve(message);
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'session is closed');
  }
}
