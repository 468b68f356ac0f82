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

export interface RunningSystem {
  readonly name: string;
  readonly version: string;
  readonly ports: Readonly<Partial<Record<GeneratorProtocol, number>>>;
  readonly durability: Readonly<Partial<Record<GeneratorProtocol, Durability>>>;
  /** What the harness changed from the broker's defaults, and why. */
  readonly settings: readonly string[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Broker-specific headers, e.g. prefetch, so every broker gets a window of the same size. */
  readonly stompSendHeaders: StompHeaders;
  readonly stompSubscribeHeaders: StompHeaders;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface SystemDefinition {
  readonly name: string;
  readonly protocols: readonly GeneratorProtocol[];
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
