// A "system" is one broker under test: Weir or a peer a user would pick instead. Each is
// started fresh by the harness on loopback ports of its own, with its own data directory,
// and speaks one or more of the protocols the load generators speak.
import type { GeneratorProtocol } from './generator-messages.js';
import type { ManagedProcess } from './managed-process.js';
import type { StompHeaders } from './stomp-frames.js';

export interface Durability {
  /** Does the broker fsync a message before it confirms it (PUBACK, RECEIPT)? */
  readonly fsyncBeforeConfirm: boolean;
  /** One sentence for the report: where messages live and when they reach the disk. */
  readonly description: string;
}

/**
 * What a system can be spoken to with: the protocols the harness's load generators speak,
 * and the clients' own protocols of the suites (Weir's native protocol, NATS's).
 */
export type SystemProtocol = GeneratorProtocol | 'native' | 'nats';

export interface RunningSystem {
  readonly name: string;
  readonly version: string;
  readonly ports: Readonly<Partial<Record<SystemProtocol, number>>>;
  readonly durability: Readonly<Partial<Record<SystemProtocol, Durability>>>;
  /** What the harness changed from the broker's defaults, and why. */
  readonly settings: readonly string[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Broker-specific headers, e.g. prefetch, so every broker gets a window of the same size. */
  readonly stompSendHeaders: StompHeaders;
  readonly stompSubscribeHeaders: StompHeaders;
  readonly process: ManagedProcess;
  /** What the broker itself reports after a run (e.g. which queues are durable), if it can tell. */
  inspect?(): string;
  stop(): Promise<void>;
}

export interface SystemDefinition {
  readonly name: string;
  readonly protocols: readonly SystemProtocol[];
  /** Undefined when the system can run here; otherwise why not (shown in the report). */
  unavailableReason(): string | undefined;
  /** Starts the system with its files under `directory` and waits until it answers. */
  start(directory: string): Promise<RunningSystem>;
}

/** Window of unacked deliveries a subscriber allows, the same for every broker. */
export const prefetchMessages = 1000;

/** A system that started but cannot take part (e.g. Weir without any adapter the generators speak). */
export class SystemUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SystemUnavailableError';
  }
}

/** The rest of a system that takes anonymous logins, needs no broker-specific STOMP headers and is one process group. */
export function anonymousSingleProcess(
  broker: ManagedProcess,
): Pick<
  RunningSystem,
  'username' | 'password' | 'stompSendHeaders' | 'stompSubscribeHeaders' | 'process' | 'stop'
> {
  return {
    username: undefined,
    password: undefined,
    stompSendHeaders: [],
    stompSubscribeHeaders: [],
    process: broker,
    stop: () => broker.stop(),
  };
}
