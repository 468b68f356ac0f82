// Opens the broker core for the server: file storage under the data directory, the
// server's clock, and background errors (ones no caller can receive) logged.

import { BrokerCore } from '../core/broker.js';
import type { CoreOpenOptions, ServerCore } from './server.js';

export async function openBrokerCore(options: CoreOpenOptions): Promise<ServerCore> {
  const { logger } = options;
  return BrokerCore.open({
    dataDir: options.dataDir,
    clock: options.clock,
    onError: (error: unknown) =>
      logger.error('background error in the broker core', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
}
