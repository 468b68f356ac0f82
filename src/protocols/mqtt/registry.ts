// State shared by every MQTT connection of one server: sessions by client id (for takeover
// and for persistent sessions between connections), the retained index, statistics, and
// the seams to the core.

import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { CoreSession, Message, PublishInput, StreamInfo } from '../../core/api.js';
import type { Authenticator } from '../../core/auth.js';
import type { ProtocolCore } from '../../core/protocol-server.js';
import { CaptureCache } from './capture-cache.js';
import { ConnectionDeadlines } from './deadlines.js';
import type { DurableState, SessionRecord } from './durable-state.js';
import type { MqttOptions } from './options.js';
import { RetainedIndex } from './retained.js';
import type { SessionState } from './session-state.js';
import { MqttStats } from './sys-topics.js';

export class MqttRegistry {
  readonly options: MqttOptions;
  readonly core: ProtocolCore;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly durable: DurableState;
  /** The largest message body accepted (the server's `limits.messageBytesMax`). */
  readonly messageBytesMax: number;
  readonly stats: MqttStats;
  readonly retained: RetainedIndex;
  readonly captures: CaptureCache;
  readonly sessions = new Map<string, SessionState>();
  /** Records of persistent sessions loaded at start and not yet resumed. */
  readonly storedSessions = new Map<string, SessionRecord>();
  /** Connections open now, with or without a session yet. */
  readonly connections = new Set<{ shutdown(): Promise<void> }>();
  /** CONNECT timeouts and keep alives of every connection, on one timer. */
  readonly deadlines: ConnectionDeadlines;
  #systemSession: CoreSession | undefined;
  #nextClientNumber = 0;
  #assignedPrefix: string;

  constructor(
    options: MqttOptions,
    core: ProtocolCore,
    authenticator: Authenticator,
    logger: Logger,
    clock: Clock,
    durable: DurableState,
    messageBytesMax: number,
  ) {
    this.messageBytesMax = messageBytesMax;
    this.options = options;
    this.core = core;
    this.authenticator = authenticator;
    this.logger = logger;
    this.clock = clock;
    this.durable = durable;
    this.stats = new MqttStats(clock.nowMs());
    this.deadlines = new ConnectionDeadlines(clock);
    this.retained = new RetainedIndex(options.retainedMessagesMax);
    const lister = core as Partial<{ listStreams(): StreamInfo[] }>;
    this.captures = new CaptureCache(
      typeof lister.listStreams === 'function'
        ? () => (lister.listStreams as () => StreamInfo[]).call(core)
        : undefined,
      clock,
    );
    durable.onStreamsChanged = () => this.captures.invalidate();
    this.#assignedPrefix = `weir-${clock.nowMs().toString(36)}-`;
  }

  /** A client id unique to this broker for a CONNECT with an empty one [MQTT-3.1.3-6]. */
  assignClientId(): string {
    let id: string;
    do id = `${this.#assignedPrefix}${(this.#nextClientNumber++).toString(36)}`;
    while (this.sessions.has(id) || this.storedSessions.has(id));
    return id;
  }

  readonly #inFlight = new Set<Promise<unknown>>();

  /** Keeps a background write (session record, will) until it settles; close() waits for them. */
  track(work: Promise<unknown>, what: string): Promise<void> {
    const tracked = work.then(
      () => undefined,
      (error: unknown) => this.logger.warn(`${what} failed`, { error: String(error) }),
    );
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return tracked;
  }

  /**
   * Stores a persistent session's record (subscriptions, expiry, when it disconnected). The
   * promise settles (never rejects: a failure is logged) once the record is durable.
   */
  saveSession(session: SessionState): Promise<void> {
    session.stored = true;
    const nowMs = this.clock.nowMs();
    return this.track(
      this.durable.saveSession({
        clientId: session.clientId,
        expiryIntervalS: session.expiryIntervalS,
        protocolVersion: session.protocolVersion,
        subscriptions: [...session.subscriptions.values()].map((subscription) => subscription.options),
        disconnectedAtMs: session.connection === undefined ? nowMs : undefined,
      }),
      'saving an MQTT session',
    );
  }

  /** The broker's own core session: wills, `$SYS/` statistics. */
  systemSession(): CoreSession {
    this.#systemSession ??= this.core.openSession({ clientId: '$mqtt' });
    return this.#systemSession;
  }

  async close(): Promise<void> {
    this.deadlines.close();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    const session = this.#systemSession;
    this.#systemSession = undefined;
    await session?.close();
  }

  /** Updates the retained index now and the `$MQTT.retained` stream; resolves once durable. */
  retain(message: Message, input: PublishInput): Promise<void> {
    this.retained.set(message);
    return this.durable.retain(input);
  }
}
