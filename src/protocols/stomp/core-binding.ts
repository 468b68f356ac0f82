// Binds StompCore to BrokerCore's administration (streams and consumers) through the one
// naming every protocol shares (src/core/destinations.ts): `/queue/x` is the queue `x` that
// JMS and the clients' `createQueue('x')` reach too, and durable subscriptions live on the
// same interest streams as theirs.
import { ErrorCode, WeirError } from '../../common/errors.js';
import {
  type DestinationCore,
  deleteDurableSubscription,
  ensureDurableSubscription,
  ensureQueue,
  isDestinationCore,
} from '../../core/destinations.js';
import type { ProtocolCore } from '../../core/protocol-server.js';
import type { ConsumerRef, DurableName, StompCore } from './core-admin.js';

export { encodeName, filterCovers } from '../../core/destinations.js';

export function coreForStomp(core: ProtocolCore): StompCore {
  if (!isDestinationCore(core)) {
    const missing = (): Promise<never> =>
      Promise.reject(
        new WeirError(
          ErrorCode.NotSupported,
          'this core has no stream administration: queues are unavailable',
        ),
      );
    return {
      openSession: (options) => core.openSession(options),
      ensureQueue: missing,
      ensureDurableSubscription: missing,
      deleteDurableSubscription: () => missing(),
    };
  }
  return new StompCoreBinding(core);
}

class StompCoreBinding implements StompCore {
  readonly #core: DestinationCore & ProtocolCore;

  constructor(core: DestinationCore & ProtocolCore) {
    this.#core = core;
  }

  openSession(options?: Parameters<ProtocolCore['openSession']>[0]): ReturnType<ProtocolCore['openSession']> {
    return this.#core.openSession(options);
  }

  async ensureQueue(name: string): Promise<ConsumerRef> {
    const { stream, consumer } = await ensureQueue(this.#core, name);
    return { stream, consumer };
  }

  ensureDurableSubscription(
    filter: string,
    name: DurableName,
    selector: string | undefined,
  ): Promise<ConsumerRef> {
    return ensureDurableSubscription(this.#core, {
      topicFilter: filter,
      ...name,
      ...(selector !== undefined ? { selector } : {}),
    });
  }

  deleteDurableSubscription(name: DurableName): Promise<boolean> {
    return deleteDurableSubscription(this.#core, name.subscriptionName, name.clientId);
  }
}
