// The seam between the MQTT adapter and the core's streams for state that must survive a
// restart (DESIGN.md §4): retained messages, persistent session records, and the durable
// consumers that queue a persistent session's QoS 1/2 messages. The core-backed
// implementation is core-state.ts.

import type { Message, PublishInput } from '../../core/api.js';
import type { ExchangeHandle, ExchangeRecord } from './exchange-log.js';
import type { SubscriptionOptions } from './session-state.js';

/** A persistent session as stored in `$MQTT.sessions` (one JSON record per client id). */
export interface SessionRecord {
  readonly clientId: string;
  readonly expiryIntervalS: number;
  readonly protocolVersion: 4 | 5;
  readonly subscriptions: readonly SubscriptionOptions[];
  /** When its client last disconnected; undefined while connected. */
  readonly disconnectedAtMs: number | undefined;
}

export interface ConsumerRef {
  readonly stream: string;
  readonly consumer: string;
}

export interface DurableState {
  /** Called after the implementation changes which subjects streams capture. */
  onStreamsChanged: (() => void) | undefined;
  /**
   * Retained messages (latest per subject, tombstones dropped), session records, and the open
   * exchanges of persistent sessions (exchange-log.ts), at start.
   */
  load(): Promise<{ retained: Message[]; sessions: SessionRecord[]; exchanges: ExchangeHandle[] }>;
  /**
   * Records an open exchange of a persistent session; resolves once it is durable. With
   * `message`, stores that message in the same transaction: after a crash, both or neither.
   */
  holdExchange(record: ExchangeRecord, message?: PublishInput): Promise<ExchangeHandle>;
  /** Ends an exchange held before (does not wait for the disk). */
  endExchange(handle: ExchangeHandle): void;
  /** Stores (or, with an empty body, clears) the retained message of `input.subject`. */
  retain(input: PublishInput): Promise<void>;
  saveSession(record: SessionRecord): Promise<void>;
  deleteSession(clientId: string): Promise<void>;
  /** Creates (or finds) the durable consumers that queue a subscription's messages. */
  consumersFor(clientId: string, options: SubscriptionOptions): Promise<ConsumerRef[]>;
  /** The durable consumers a subscription already has (none are created). */
  findConsumers(clientId: string, options: SubscriptionOptions): ConsumerRef[];
  /** Deletes consumers of a subscription that ended (lifecycle.ts decides when a `$share` group's may go). */
  deleteConsumers(consumers: readonly ConsumerRef[]): Promise<void>;
  /** Releases what the implementation holds in the core (its session). */
  close(): Promise<void>;
}
