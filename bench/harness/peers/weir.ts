// Weir itself, started as a separate process like every peer: `weir serve` from this build,
// listening on ports the OS picks (port 0) and reporting them in its ports file. Protocols
// whose adapter is not in the build yet are shown as "adapter not available yet" instead of
// figures.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '../managed-process.js';
import {
  prefetchMessages,
  SystemUnavailableError,
  type Durability,
  type SystemDefinition,
  type SystemProtocol,
} from '../system.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(distRoot, 'src', 'server', 'cli.js');
const startTimeoutMs = 30_000;
/** The protocols `weir serve` listens with; a suite enables only the ones it speaks. */
const servedProtocols = ['native', 'mqtt', 'stomp', 'amqp'] as const;
type ServedProtocol = (typeof servedProtocols)[number];

/** The package version and the commit it was built from (`-dirty`: with uncommitted changes). */
function weirVersion(): string {
  let version = 'unknown';
  try {
    const manifest = JSON.parse(readFileSync(path.join(distRoot, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    version = manifest.version;
  } catch {
    // keep 'unknown'
  }
  try {
    const commit = execFileSync('git', ['describe', '--always', '--dirty', '--exclude', '*'], {
      cwd: path.join(distRoot, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return `${version} (${commit})`;
  } catch {
    return version;
  }
}

async function waitForPortsFile(file: string, alive: () => boolean): Promise<Record<string, number>> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (existsSync(file)) {
      return (JSON.parse(readFileSync(file, 'utf8')) as { ports: Record<string, number> }).ports;
    }
    if (!alive()) throw new Error('weir serve exited before it was listening');
    if (Date.now() > deadline) throw new Error(`weir serve wrote no ports file within ${startTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How a suite wants Weir served; the harness's own run uses the defaults. */
export interface WeirTuning {
  /** The protocols measured, whose ports are reported; default MQTT and STOMP. */
  readonly protocols?: readonly SystemProtocol[];
  /** Serve only the measured protocols (default: every adapter, as `weir serve` does). */
  readonly onlyMeasured?: boolean;
  /** Options of a protocol's adapter, replacing the harness's (e.g. `{}` for MQTT's defaults). */
  readonly protocolOptions?: Readonly<Partial<Record<ServedProtocol, Readonly<Record<string, unknown>>>>>;
  /** `limits` of the configuration (connectionsMax, frameBytesMax, messageBytesMax). */
  readonly limits?: Readonly<Record<string, number>>;
  /** What the suite changed, for the report. */
  readonly settings?: readonly string[];
}

const harnessProtocolOptions: Readonly<Partial<Record<ServedProtocol, Readonly<Record<string, unknown>>>>> = {
  // The common delivery window, and a clean session's queue as unbounded as Mosquitto's is
  // made here (its maximum).
  mqtt: { inflightMax: prefetchMessages, queuedMessagesMax: 1_000_000 },
};

const durabilities: Readonly<Record<SystemProtocol, Durability | undefined>> = {
  mqtt: {
    fsyncBeforeConfirm: false,
    description:
      'clean sessions: a QoS 1 message no stream captures is acked once handed to live subscribers; persistent sessions (backlog) queue it in a stream of the log',
  },
  stomp: {
    fsyncBeforeConfirm: true,
    description:
      '/queue: a workqueue stream, fsync always by default: the RECEIPT waits for the group-commit fsync; /topic (fan-out): live subscriptions, at most once',
  },
  native: {
    fsyncBeforeConfirm: true,
    description:
      "each stream's fsync setting: always (the default) confirms after the group-commit fsync, never leaves the write-back to the OS",
  },
  nats: undefined,
};

/** Weir, `weir serve` from this build, served the way `tuning` says. */
export function weirSystem(tuning: WeirTuning = {}): SystemDefinition {
  const measured = tuning.protocols ?? ['mqtt', 'stomp'];
  const protocolOptions = tuning.protocolOptions ?? harnessProtocolOptions;
  return {
    name: 'weir',
    protocols: measured,
    unavailableReason: () => (existsSync(cli) ? undefined : 'not built: run npm run build'),
    async start(directory) {
      const configFile = path.join(directory, 'weir.json');
      const portsFile = path.join(directory, 'ports.json');
      const protocols: Record<string, unknown> = {};
      for (const protocol of servedProtocols) {
        if (tuning.onlyMeasured === true && !(measured as readonly string[]).includes(protocol)) {
          protocols[protocol] = { enabled: false };
          continue;
        }
        const options = protocolOptions[protocol];
        protocols[protocol] = options === undefined ? { port: 0 } : { port: 0, options };
      }
      writeFileSync(
        configFile,
        JSON.stringify(
          {
            dataDir: path.join(directory, 'data'),
            portsFile,
            logLevel: 'warn',
            http: { enabled: false },
            ...(tuning.limits === undefined ? {} : { limits: tuning.limits }),
            protocols,
          },
          null,
          2,
        ),
      );
      const broker = ManagedProcess.spawn('weir', process.execPath, [cli, 'serve', '--config', configFile], {
        cwd: directory,
        logFile: path.join(directory, 'weir.log'),
      });
      let listening: Record<string, number>;
      try {
        listening = await waitForPortsFile(portsFile, () => broker.alive);
      } catch (error) {
        await broker.stop();
        const log = broker.logTail();
        // A build that says a part is not there yet (WEIR_NOT_SUPPORTED) is not a failure.
        if (log.includes('WEIR_NOT_SUPPORTED')) {
          throw new SystemUnavailableError(
            `adapter not available yet: ${(log.split('\n').at(-1) ?? '').replace(/ \(data directory [^)]*\)/, '')}`,
          );
        }
        throw new Error(`${(error as Error).message}\n${log}`);
      }
      const ports: Partial<Record<SystemProtocol, number>> = {};
      const durability: Partial<Record<SystemProtocol, Durability>> = {};
      for (const protocol of measured) {
        const port = listening[protocol];
        if (port !== undefined) ports[protocol] = port;
        const described = durabilities[protocol];
        if (described !== undefined) durability[protocol] = described;
      }
      if (Object.keys(ports).length === 0) {
        await broker.stop();
        throw new SystemUnavailableError(
          `adapter not available yet (this build serves none of ${measured.join(', ')})`,
        );
      }
      return {
        name: 'weir',
        version: weirVersion(),
        ports,
        durability,
        settings: tuning.settings ?? [
          `weir serve; node ${process.version}`,
          `MQTT inflightMax ${prefetchMessages}, queuedMessagesMax 1,000,000 (the most); STOMP prefetch-count ${prefetchMessages}`,
        ],
        username: undefined,
        password: undefined,
        stompSendHeaders: [['persistent', 'true']],
        stompSubscribeHeaders: [['prefetch-count', String(prefetchMessages)]],
        process: broker,
        stop: () => broker.stop(),
      };
    },
  };
}

/** Weir as the harness's own run serves it. */
export const weir: SystemDefinition = weirSystem();
