// The broker core the STOMP tests run against: a real BrokerCore on files in a temp dir.
import type { Clock } from '../../src/common/clock.js';
import { BrokerCore } from '../../src/core/broker.js';

export interface TestCore {
  readonly core: BrokerCore;
  close(): Promise<void>;
}

export async function openTestCore(dataDir: string, clock: Clock): Promise<TestCore> {
  const core = await BrokerCore.open({ dataDir, clock });
  return { core, close: () => core.close() };
}
