// What an MQTT session is, apart from the network connection it may currently have (MQTT
// 5.0 §4.1): its subscriptions, the QoS 2 exchanges still open in either direction, its
// expiry, and a will waiting for its delay. A clean session lives as long as its
// connection; a persistent one outlives it, in memory while the broker runs and in the
// `$MQTT.sessions` stream and its durable consumers across restarts.

import type { TimerHandle } from '../../common/clock.js';
import type { Attachment, LiveSubscription } from '../../core/api.js';
import type { Qos } from './codec/packets.js';
import type { ExchangeHandle } from './exchange-log.js';

export interface SubscriptionOptions {
  /** The filter as the client gave it, `$share/…` included: the subscription's identity. */
  readonly filter: string;
  /** The topic filter without `$share/<group>/`. */
  readonly topicFilter: string;
  readonly shareGroup: string | undefined;
  readonly qos: Qos;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly identifier: number | undefined;
}

/** A subscription and the core handles that feed it while its session is connected. */
export interface SubscriptionState {
  options: SubscriptionOptions;
  /** True when it is fed by durable consumers (persistent session, QoS 1 or 2). */
  durable: boolean;
  /** Durable consumers `(stream, consumer)` that hold this subscription's queued messages. */
  consumers: { stream: string; consumer: string }[];
  live: LiveSubscription[];
  attachments: Attachment[];
}

export interface WillMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: Qos;
  readonly retain: boolean;
  readonly delayS: number;
  readonly properties: {
    readonly payloadFormatIndicator?: boolean;
    readonly messageExpiryInterval?: number;
    readonly contentType?: string;
    readonly responseTopic?: string;
    readonly correlationData?: Buffer;
    readonly userProperties?: Readonly<Record<string, string | string[]>>;
  };
}

const noSubscriptions: ReadonlyMap<string, SubscriptionState> = new Map();

export class SessionState {
  readonly clientId: string;
  /** 0 ends the session with its connection; 0xFFFFFFFF never expires (capped by options). */
  expiryIntervalS: number;
  protocolVersion: 4 | 5;
  /** Subscriptions by filter; the map is made by the first one (most clean sessions have few or none). */
  #subscriptions: Map<string, SubscriptionState> | undefined;
  // The QoS 2 sets are made on first use: most sessions never see QoS 2, and an idle
  // connection should cost little memory.
  #inboundReleases: Set<number> | undefined;
  #outboundReleases: Set<number> | undefined;
  #inboundHolds: Map<number, Promise<unknown>> | undefined;
  #records: SessionRecords | undefined;
  /** The connection that holds the session now, if any. */
  connection: { takeOver(): void } | undefined;
  expiryTimer: TimerHandle | undefined;
  willTimer: TimerHandle | undefined;
  /** A will waiting for its delay or for the session to end (v5 §3.1.3.2). */
  pendingWill: WillMessage | undefined;
  /** A record of this session is in `$MQTT.sessions` (so ending it writes a deletion). */
  stored = false;

  constructor(clientId: string, expiryIntervalS: number, protocolVersion: 4 | 5) {
    this.clientId = clientId;
    this.expiryIntervalS = expiryIntervalS;
    this.protocolVersion = protocolVersion;
  }

  get subscriptions(): ReadonlyMap<string, SubscriptionState> {
    return this.#subscriptions ?? noSubscriptions;
  }

  setSubscription(filter: string, subscription: SubscriptionState): void {
    (this.#subscriptions ??= new Map()).set(filter, subscription);
  }

  deleteSubscription(filter: string): void {
    this.#subscriptions?.delete(filter);
  }

  clearSubscriptions(): void {
    this.#subscriptions = undefined;
  }

  /** Inbound QoS 2: packet ids PUBREC'd and awaiting PUBREL (exactly-once, method B). */
  get inboundReleases(): Set<number> {
    return (this.#inboundReleases ??= new Set());
  }

  /**
   * Inbound QoS 2 of a persistent session: the exchange of `packetId` whose hold (and message)
   * is still being written, PUBREC not yet sent; undefined when there is none.
   */
  inboundHold(packetId: number): Promise<unknown> | undefined {
    return this.#inboundHolds?.get(packetId);
  }

  /** Marks `packetId` as being held until `exchange` settles (see inboundHold). */
  trackInboundHold(packetId: number, exchange: Promise<unknown>): void {
    const holds = (this.#inboundHolds ??= new Map());
    holds.set(packetId, exchange);
    const settled = (): void => {
      if (holds.get(packetId) === exchange) holds.delete(packetId);
    };
    exchange.then(settled, settled);
  }

  /** Outbound QoS 2: packet ids PUBREL'd and awaiting PUBCOMP; resent on reconnect [MQTT-4.4.0-1]. */
  get outboundReleases(): Set<number> {
    return (this.#outboundReleases ??= new Set());
  }

  /** Where a persistent session's open exchanges are recorded (exchanges.ts), made on first use. */
  get records(): SessionRecords {
    return (this.#records ??= new SessionRecords());
  }

  get hasRecords(): boolean {
    return this.#records !== undefined;
  }

  get hasOutboundReleases(): boolean {
    return this.#outboundReleases !== undefined && this.#outboundReleases.size > 0;
  }

  get persistent(): boolean {
    return this.expiryIntervalS > 0;
  }

  cancelTimers(): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    this.willTimer?.cancel();
    this.willTimer = undefined;
  }
}

/**
 * A persistent session's open exchanges in the exchange log (exchange-log.ts), so that they
 * outlive a restart: the records, and what was read back from them at start.
 */
export class SessionRecords {
  /** Inbound QoS 2 packet ids held (PUBREC sent), with their records. */
  readonly inbound = new Map<number, ExchangeHandle>();
  /** Inbound packet ids read back at start: a PUBLISH without DUP ends them (a new message). */
  readonly restoredInbound = new Set<number>();
  /** Outbound QoS 2 packet ids released (PUBREL sent), with their records. */
  readonly release = new Map<number, ExchangeHandle>();
  /**
   * Released deliveries by `stream/consumer/partition/offset`: when the core delivers one
   * again (its ack was lost in a crash), it is acked, not sent [MQTT-4.4.0-1].
   */
  readonly releasedOrigins = new Map<string, number>();
  /** Retained messages sent at subscribe (QoS 1/2) and not yet acknowledged: sent again on reconnect. */
  readonly retained = new Set<ExchangeHandle>();

  /** Every record, for ending them all with the session. */
  all(): ExchangeHandle[] {
    return [...this.inbound.values(), ...this.release.values(), ...this.retained];
  }
}

export function originKey(origin: {
  readonly stream: string;
  readonly consumer: string;
  readonly partition: number;
  readonly offset: number;
}): string {
  return `${origin.stream}/${origin.consumer}/${origin.partition}/${origin.offset}`;
}
