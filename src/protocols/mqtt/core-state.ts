// DurableState on the core's ordinary streams and consumers (DESIGN.md §4: protocol state
// lives in streams, not in a store of the adapter's own).
//
// - `mqtt-retained` captures `$MQTT.retained.>`: the retained message of subject `s` is
//   stored as `$MQTT.retained.s` with all its fields; an empty body clears it. At start the
//   last message per subject is read back.
// - `mqtt-sessions` captures `$MQTT.sessions.>`: one JSON record per persistent session at
//   `$MQTT.sessions.<client id, base64url>`; an empty body deletes it.
// - `mqtt-exchanges`: open exchanges of persistent sessions (exchange-log.ts).
// - Each persistent QoS 1/2 subscription is a durable consumer `mqtt-<hash>` filtered on its
//   subject filter, and `$share/g/f` a shared one `mqtt-share-<hash>` that every member
//   attaches to. The stream it is on is chosen and named as for every protocol, by
//   ensureSubscriptionStream (src/core/destinations.ts): a stream that already covers the
//   filter (a user's `sensors.>` covers `sensors.*.temp`, so a message is stored once however
//   many protocols read it), else a shared interest stream `topic-…` (so a message is kept
//   only while a subscription still has to take it), bounded by `queueBytesMax` and
//   `queueAgeMaxMs`. A filter that partly overlaps a user's stream cannot be captured (streams
//   may not overlap) and the subscription is refused with a reason string saying which stream
//   is in the way.
//
// Both state streams have `retention: compact` (DESIGN.md §3): each record is keyed (the
// topic's subject for retained messages, the encoded client id for sessions) and an empty
// body is a tombstone, so compaction keeps one record per live topic or session and drops
// deleted ones after the tombstone retention. Their size follows the number of retained
// topics and sessions, not the number of changes. (Streams made by an older broker as
// `limits` keep that retention: it cannot change after creation.)

import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode, WeirError, isWeirError } from '../../common/errors.js';
import type { CoreSession, Message, PublishInput } from '../../core/api.js';
import type { BrokerCore } from '../../core/broker.js';
import type { ProtocolCore } from '../../core/protocol-server.js';
import { ensureSubscriptionStream, releaseUnusedSubjects } from '../../core/destinations.js';
import type { ConsumerRef, DurableState, SessionRecord } from './durable-state.js';
import { ExchangeLog } from './exchange-log.js';
import type { ExchangeHandle, ExchangeRecord } from './exchange-log.js';
import { filterToSubjectFilters } from './mapping.js';
import type { MqttOptions } from './options.js';
import type { SubscriptionOptions } from './session-state.js';

const retainedStream = 'mqtt-retained';
const retainedPrefix = '$MQTT.retained.';
const sessionsStream = 'mqtt-sessions';
const sessionsPrefix = '$MQTT.sessions.';
/** Ack wait of MQTT consumers: MQTT redelivers on reconnect, not on a timer (5.0 §4.4). */
const consumerAckWaitMs = 24 * 3600 * 1000;

type AdminCore = Pick<
  BrokerCore,
  | 'openSession'
  | 'addStream'
  | 'updateStream'
  | 'listStreams'
  | 'streamInfo'
  | 'addConsumer'
  | 'deleteConsumer'
  | 'listConsumers'
  | 'consumerInfo'
>;

function isAdminCore(core: ProtocolCore): core is ProtocolCore & AdminCore {
  const candidate = core as Partial<AdminCore>;
  return typeof candidate.addStream === 'function' && typeof candidate.addConsumer === 'function';
}

export function createCoreState(core: ProtocolCore, options: MqttOptions): DurableState {
  if (!isAdminCore(core)) {
    throw new WeirError(ErrorCode.NotSupported, 'MQTT needs a broker core with stream administration');
  }
  return new CoreState(core, options);
}

/**
 * `mqtt-<hash>` per client, MQTT filter and subject filter; `mqtt-share-<hash>` per share
 * group, MQTT filter and subject filter. The MQTT filter is part of the name because two
 * filters can map to one subject filter (`a/+/#` includes its parent level `a.*`, which is
 * also `a/+`), and each subscription needs a consumer of its own.
 */
function consumerName(clientId: string, options: SubscriptionOptions, filter: string): string {
  const owner = options.shareGroup ?? clientId;
  const name = hash(`${owner}\u0000${options.topicFilter}\u0000${filter}`);
  return options.shareGroup !== undefined ? `mqtt-share-${name}` : `mqtt-${name}`;
}

/** A session's compaction key and subject token: its client id, base64url ('-' when empty). */
function sessionKey(clientId: string): string {
  return Buffer.from(clientId).toString('base64url') || '-';
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

class CoreState implements DurableState {
  readonly #core: ProtocolCore & AdminCore;
  readonly #options: MqttOptions;
  #session: CoreSession | undefined;
  readonly #exchanges: ExchangeLog;
  onStreamsChanged: (() => void) | undefined;

  constructor(core: ProtocolCore & AdminCore, options: MqttOptions) {
    this.#core = core;
    this.#options = options;
    this.#exchanges = new ExchangeLog(core, () => this.#publisher);
  }

  get #publisher(): CoreSession {
    this.#session ??= this.#core.openSession({ clientId: '$mqtt-state' });
    return this.#session;
  }

  async #ensureStream(name: string, subject: string): Promise<void> {
    if (this.#core.listStreams().some((info) => info.config.name === name)) return;
    await this.#core.addStream({ name, subjects: [subject], retention: 'compact' });
  }

  /** Every stored message of a stream, last per subject, through a throwaway pull consumer. */
  async #readLastPerSubject(stream: string): Promise<Message[]> {
    if (this.#core.streamInfo(stream).messages === 0) return [];
    const name = `mqtt-load-${randomBytes(6).toString('hex')}`;
    await this.#core.addConsumer(stream, {
      name,
      durable: false,
      deliverPolicy: { kind: 'last_per_subject' },
      ackPolicy: 'none',
    });
    const messages: Message[] = [];
    // The core's clock timers do not hold the process open; while loading at start nothing
    // else may, so this does until the stream is read.
    const holdOpen = setInterval(() => undefined, 60_000);
    try {
      // A no-wait fetch returns what reads under way bring; an empty one is the end only
      // once the consumer has nothing left to read (its pending count is an upper bound).
      for (;;) {
        let batch = await this.#publisher.fetch(stream, name, { batch: 1000, expiresMs: 0 });
        if (batch.length === 0) {
          if (this.#core.consumerInfo(stream, name).pending === 0) break;
          batch = await this.#publisher.fetch(stream, name, { batch: 1000, expiresMs: 50 });
        }
        for (const delivery of batch) messages.push(delivery.message);
      }
    } finally {
      clearInterval(holdOpen);
      await this.#core.deleteConsumer(stream, name);
    }
    return messages;
  }

  async load(): Promise<{ retained: Message[]; sessions: SessionRecord[]; exchanges: ExchangeHandle[] }> {
    await this.#ensureStream(retainedStream, `${retainedPrefix}>`);
    await this.#ensureStream(sessionsStream, `${sessionsPrefix}>`);
    const retained: Message[] = [];
    for (const stored of await this.#readLastPerSubject(retainedStream)) {
      if (stored.body.length === 0) continue;
      retained.push({ ...stored, subject: stored.subject.slice(retainedPrefix.length) });
    }
    const sessions: SessionRecord[] = [];
    for (const stored of await this.#readLastPerSubject(sessionsStream)) {
      if (stored.body.length === 0) continue;
      sessions.push(JSON.parse(stored.body.toString('utf8')) as SessionRecord);
    }
    const exchanges = await this.#exchanges.load();
    return { retained, sessions, exchanges };
  }

  holdExchange(record: ExchangeRecord, message?: PublishInput): Promise<ExchangeHandle> {
    return this.#exchanges.hold(record, message);
  }

  endExchange(handle: ExchangeHandle): void {
    this.#exchanges.end(handle);
  }

  async retain(input: PublishInput): Promise<void> {
    const subject = `${retainedPrefix}${input.subject}`;
    await this.#publisher.publishConfirmed({ ...input, subject, key: input.subject, persistent: true });
  }

  async saveSession(record: SessionRecord): Promise<void> {
    const key = sessionKey(record.clientId);
    await this.#publisher.publishConfirmed({
      subject: `${sessionsPrefix}${key}`,
      key,
      body: JSON.stringify(record),
    });
  }

  /** A tombstone: compaction drops the session's records, then this one. */
  async deleteSession(clientId: string): Promise<void> {
    const key = sessionKey(clientId);
    await this.#publisher.publishConfirmed({
      subject: `${sessionsPrefix}${key}`,
      key,
      body: Buffer.alloc(0),
    });
  }

  async consumersFor(clientId: string, options: SubscriptionOptions): Promise<ConsumerRef[]> {
    const refs: ConsumerRef[] = [];
    for (const filter of filterToSubjectFilters(options.topicFilter)) {
      const stream = await this.#streamFor(filter);
      const shared = options.shareGroup !== undefined;
      const consumer = consumerName(clientId, options, filter);
      const existing = this.#core.listConsumers(stream).some((info) => info.config.name === consumer);
      if (!existing) {
        await this.#core.addConsumer(stream, {
          name: consumer,
          durable: true,
          filterSubject: filter,
          deliverPolicy: { kind: 'new' },
          ackPolicy: 'explicit',
          ackWaitMs: consumerAckWaitMs,
          maxDeliver: -1,
          maxAckPending: Math.max(this.#options.inflightMax, 1),
          dispatch: shared ? 'shared' : 'exclusive',
        });
      }
      refs.push({ stream, consumer });
    }
    return refs;
  }

  findConsumers(clientId: string, options: SubscriptionOptions): ConsumerRef[] {
    const wanted = new Set(
      filterToSubjectFilters(options.topicFilter).map((filter) => consumerName(clientId, options, filter)),
    );
    const refs: ConsumerRef[] = [];
    for (const info of this.#core.listStreams()) {
      for (const consumer of this.#core.listConsumers(info.config.name)) {
        if (wanted.has(consumer.config.name))
          refs.push({ stream: info.config.name, consumer: consumer.config.name });
      }
    }
    return refs;
  }

  /** The stream a subject filter's messages are stored in (src/core/destinations.ts decides). */
  async #streamFor(filter: string): Promise<string> {
    const { stream, changed } = await ensureSubscriptionStream(this.#core, filter, {
      maxBytes: this.#options.queueBytesMax,
      maxAgeMs: this.#options.queueAgeMaxMs,
    });
    if (changed) this.onStreamsChanged?.();
    return stream;
  }

  async deleteConsumers(consumers: readonly ConsumerRef[]): Promise<void> {
    for (const ref of consumers) {
      try {
        await this.#core.deleteConsumer(ref.stream, ref.consumer);
      } catch (error) {
        if (!isWeirError(error, ErrorCode.StreamNotFound)) throw error;
      }
      if (await releaseUnusedSubjects(this.#core, ref.stream)) this.onStreamsChanged?.();
    }
  }

  async close(): Promise<void> {
    await this.#exchanges.close();
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }
}
