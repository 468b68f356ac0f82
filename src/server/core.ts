// Opens the broker core for the server. The broker core (src/core/broker.ts) is being built
// in parallel; until it is in this build, starting a server without an injected core fails
// with WEIR_NOT_SUPPORTED rather than pretending to store messages.

import { ErrorCode, WeirError } from '../common/errors.js';
import type { CoreOpenOptions, ServerCore } from './server.js';

export function openBrokerCore(options: CoreOpenOptions): Promise<ServerCore> {
  return Promise.reject(
    new WeirError(
      ErrorCode.NotSupported,
      `the broker core is not in this build yet (data directory ${options.dataDir})`,
    ),
  );
}
