// The brokers the STOMP benchmark compares: the harness's systems (bench/harness/peers/),
// tuned as this suite measures them, each started on its own loopback ports with its own
// data directory and stopped by its process group; here they only get the face the
// workloads use.
import { activemqSystem } from '../../harness/peers/activemq.js';
import { rabbitmqSystem } from '../../harness/peers/rabbitmq.js';
import { weirSystem } from '../../harness/peers/weir.js';
import { describeSuiteSystem, startSuiteSystem } from '../../harness/suite-systems.js';
import type { RunningSystem, SystemDefinition } from '../../harness/system.js';
import { BenchClient } from './client.js';

export interface Peer {
  readonly system: string;
  readonly port: number;
  /** CPU time the broker's processes (its process group) have used so far, in ms. */
  cpuMs(): number;
  /** What "durable" means for this peer in this run, stated in the report. */
  readonly durability: string;
  /** Version, durability and settings of the broker, one line each. */
  readonly description: readonly string[];
  readonly login: string;
  readonly passcode: string;
  /** What the peer itself reports about durability after a run, if it can tell. */
  inspect?(): string;
  stop(): Promise<void>;
}

const startTimeoutMs = 90_000;

export const peerDefinitions: Readonly<Record<string, SystemDefinition>> = {
  weir: weirSystem({
    protocols: ['stomp'],
    onlyMeasured: true,
    settings: ['weir serve, STOMP only, adapter defaults'],
  }),
  activemq: activemqSystem({
    mqtt: false,
    stompScheme: 'stomp',
    brokerAttributes: 'persistent="true" schedulerSupport="false" advisorySupport="false"',
    settings: ['no advisory topics, no scheduler'],
  }),
  rabbitmq: rabbitmqSystem({
    protocols: ['stomp'],
    config: ['loopback_users.guest = true', 'log.console = true', 'log.console.level = warning'],
    settings: ['STOMP plugin only'],
  }),
};

/** Resolves once a STOMP CONNECT succeeds: a listening port is not yet a broker that accepts logins. */
async function waitForStomp(
  system: RunningSystem,
  port: number,
  login: string,
  passcode: string,
): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!system.process.alive) {
      throw new Error(
        `${system.process.describeExit()} before accepting STOMP connections: ${system.process.logTail()}`,
      );
    }
    try {
      const client = await BenchClient.connect({ port, login, passcode });
      await client.disconnect();
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`no STOMP answer on port ${port} within ${startTimeoutMs} ms (${lastError})`);
}

/** Starts the named peer and waits until it accepts a STOMP login. */
export async function startPeer(name: string): Promise<Peer> {
  const definition = peerDefinitions[name];
  if (definition === undefined) throw new Error('unknown peer');
  const system = await startSuiteSystem(definition, 'stomp');
  const port = system.ports.stomp;
  const login = system.username ?? 'guest';
  const passcode = system.password ?? 'guest';
  try {
    if (port === undefined) throw new Error('serves no STOMP');
    await waitForStomp(system, port, login, passcode);
  } catch (error) {
    await system.stop();
    throw error;
  }
  const durability = system.durability.stomp;
  return {
    system: system.name,
    port,
    cpuMs: () => system.process.sample().cpuSeconds * 1000,
    durability:
      durability === undefined
        ? 'unknown'
        : `${durability.description} (fsync before RECEIPT: ${durability.fsyncBeforeConfirm ? 'yes' : 'no'})`,
    description: describeSuiteSystem(system),
    login,
    passcode,
    ...(system.inspect === undefined ? {} : { inspect: system.inspect }),
    stop: () => system.stop(),
  };
}
