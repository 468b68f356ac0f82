// What the STOMP adapter needs from the core besides sessions: queues and durable topic
// subscriptions, created on first use as ActiveMQ and RabbitMQ do. Filled in from
// BrokerCore's stream and consumer administration.
import type { SessionOptions } from '../../core/protocol-server.js';
import type { CoreSession } from '../../core/api.js';

/** Where a queue or durable subscription lives: attach to `consumer` on `stream`. */
export interface ConsumerRef {
  readonly stream: string;
  readonly consumer: string;
}

/**
 * A durable subscription's name: ActiveMQ's dialect names it by the CONNECT `client-id` and
 * `activemq.subscriptionName` (the same subscription a JMS client with that client id and
 * name reaches); RabbitMQ's by the subscription `id` alone.
 */
export interface DurableName {
  readonly subscriptionName: string;
  readonly clientId?: string;
}

export interface StompCore {
  openSession(options?: SessionOptions): CoreSession;
  /** Queue `name`: a workqueue stream on subject `name` with its shared durable consumer. */
  ensureQueue(name: string): Promise<ConsumerRef>;
  /** Durable subscription `name` on an interest stream capturing `filter`, with an optional JMS selector. */
  ensureDurableSubscription(
    filter: string,
    name: DurableName,
    selector: string | undefined,
  ): Promise<ConsumerRef>;
  /** Deletes a durable subscription; false when there was none. */
  deleteDurableSubscription(name: DurableName): Promise<boolean>;
}

/**
 * Queues by name, created on first use and remembered, so that a SEND to a known queue
 * costs no await. Shared by every connection of one STOMP server.
 */
export class QueueDirectory {
  readonly #core: StompCore;
  readonly #known = new Map<string, ConsumerRef>();
  readonly #creating = new Map<string, Promise<ConsumerRef>>();

  constructor(core: StompCore) {
    this.#core = core;
  }

  /** The queue's consumer; a promise only the first time a name is seen. */
  queue(name: string): ConsumerRef | Promise<ConsumerRef> {
    const known = this.#known.get(name);
    if (known !== undefined) return known;
    let creating = this.#creating.get(name);
    if (creating === undefined) {
      creating = this.#core.ensureQueue(name).then(
        (ref) => {
          this.#creating.delete(name);
          this.#known.set(name, ref);
          return ref;
        },
        (error: unknown) => {
          this.#creating.delete(name);
          throw error;
        },
      );
      this.#creating.set(name, creating);
    }
    return creating;
  }

  /** Forgets a queue the core no longer has (deleted by an administrator). */
  forget(name: string): void {
    this.#known.delete(name);
  }
}
