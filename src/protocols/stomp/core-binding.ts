// Binds the STOMP adapter's needs (StompCore) to the broker core's administration API.
import { ErrorCode, WeirError } from '../../common/errors.js';
import type { ProtocolCore } from '../../core/protocol-server.js';
import type { StompCore } from './core-admin.js';

export function coreForStomp(core: ProtocolCore): StompCore {
  const missing = (): Promise<never> =>
    Promise.reject(new WeirError(ErrorCode.NotSupported, 'queues and durable subscriptions need BrokerCore'));
  return {
    openSession: (options) => core.openSession(options),
    ensureQueue: missing,
    ensureDurableSubscription: missing,
    deleteDurableSubscription: missing,
  };
}
