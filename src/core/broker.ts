// BrokerCore: owns the streams, their consumers and the live router, and hands out sessions
// (api.ts). Every protocol adapter and the in-process client use it through CoreSession and
// the administration methods here.
//
// Publishing: a subject is matched once against the streams' subject trie (streams may not
// capture overlapping subjects, so at most one stream captures a message) and against the
// live subscriptions. A confirmed publish that no stream captures is refused with
// WEIR_NO_STREAM; a fire-and-forget one that neither a stream nor a live subscription takes
// is counted in `metrics().dropped`.
//
// Administration calls are serialised on one queue, so definitions change one at a time and
// each change is persisted (definition-store.ts) before the call resolves.

import { DirectoryLock } from '../storage/directory-lock.js';
import type { Clock } from '../common/clock.js';
import { SystemClock } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import { Limits } from '../common/limits.js';
import type {
  ConsumerConfigInput,
  ConsumerInfo,
  CoreSession,
  Message,
  ProducerIdentity,
  ProducerStamp,
  PublishAck,
  PublishConfirmCallback,
  PublishInput,
  RedriveResult,
  RedriveSelection,
  StorageKind,
  StreamConfigInput,
  StreamInfo,
  Transaction,
  TransactionOptions,
} from './api.js';
import { parseConsumerConfig } from './consumer-config.js';
import { ConsumerStateLog } from './consumer-state-log.js';
import type { Consumer, DeadLetterDetails } from './consumer.js';
import { deadLetterInput, deadLetterStreamName, redriveInput } from './dead-letter.js';
import { DelayedDelivery } from './delayed-delivery.js';
import { ProducerRegistry } from './dedup/producer-registry.js';
import { checkStamp } from './dedup/producer-state.js';
import { StreamDedup } from './dedup/stream-dedup.js';
import { isTemporaryQueue } from './request-reply.js';
import { TransactionCoordinator, type TransactionHost } from './transaction.js';
import { TransactionLog } from './transaction-log.js';
import { openFileLog } from '../storage/file-log.js';
import { createMemoryLog } from '../storage/memory-log.js';
import path from 'node:path';
import { DefinitionStore } from './definition-store.js';
import { consumerInfo, streamInfo } from './info.js';
import { LiveRouter } from './live-router.js';
import { createMessage } from './message.js';
import type { SessionOptions } from './protocol-server.js';
import { Session } from './session.js';
import { mergeStreamUpdate, parseStreamConfig } from './stream-config.js';
import { StreamStore } from './stream-store.js';
import type { StoredMessage } from './stream-partition.js';
import { Stream } from './stream.js';
import { filtersOverlap } from './subject.js';
import { SubjectTrie } from './subject-trie.js';

/** Distinct subjects whose capturing stream is remembered. */
const captureCacheSubjectsMax = 10_000;

export interface BrokerCoreOptions {
  /** Where streams and definitions live; without it everything is kept in memory. */
  readonly dataDir?: string;
  readonly clock?: Clock;
  /** `memory` keeps everything in memory even with a data directory. Default `file`. */
  readonly storage?: StorageKind;
  /** Segment size of stream logs (tests use small segments to exercise retention). */
  readonly segmentBytesMax?: number;
  /** Default buffer of a live subscription that does not choose one. */
  readonly liveBufferMessagesDefault?: number;
  /** Unacked holes per consumer partition before new deliveries pause; default and maximum Limits.consumerAckHolesMax. */
  readonly consumerAckHolesMax?: number;
  /** Consumer-state log growth between snapshots; default Limits.consumerStateSnapshotBytes. */
  readonly consumerStateSnapshotBytes?: number;
  /** Errors no caller can receive (a failed background deletion); default: ignored after counting. */
  readonly onError?: (error: unknown) => void;
}

export interface BrokerMetrics {
  /** Publishes accepted by a stream or a live subscription. */
  readonly published: number;
  /** Fire-and-forget publishes nobody took: no stream captured them and no live subscription matched. */
  readonly dropped: number;
  readonly backgroundErrors: number;
  readonly sessions: number;
  readonly streams: number;
}

export class BrokerCore {
  readonly clock: Clock;
  readonly liveRouter: LiveRouter;
  readonly #definitions: DefinitionStore;
  readonly #store: StreamStore;
  readonly #streams = new Map<string, Stream>();
  readonly #capture = new SubjectTrie<Stream>();
  /** subject → the stream capturing it (null: none); cleared whenever stream subjects change. */
  readonly #captureCache = new Map<string, Stream | null>();
  readonly #sessions = new Map<string, Session>();
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #snapshotBytes: number;
  readonly #ackHolesMax: number;
  /** core2: idempotent producer identities (dedup/producer-registry.ts). */
  #producers!: ProducerRegistry;
  /** core2: transactions (transaction.ts). */
  #transactions!: TransactionCoordinator;
  #admin: Promise<unknown> = Promise.resolve();
  #nextSessionId = 1;
  #published = 0;
  #dropped = 0;
  #backgroundErrors = 0;
  #closed = false;
  /** One broker per data directory (storage/directory-lock.ts). */
  #lock: DirectoryLock | undefined;

  private constructor(options: BrokerCoreOptions) {
    this.clock = options.clock ?? new SystemClock();
    const dataDir = options.storage === 'memory' ? undefined : options.dataDir;
    this.#definitions = new DefinitionStore(dataDir);
    this.#store = new StreamStore(dataDir, this.clock, options.segmentBytesMax);
    this.#onError = options.onError;
    this.#snapshotBytes = options.consumerStateSnapshotBytes ?? Limits.consumerStateSnapshotBytes;
    const ackHolesMax = options.consumerAckHolesMax ?? Limits.consumerAckHolesMax;
    if (!Number.isSafeInteger(ackHolesMax) || ackHolesMax < 1 || ackHolesMax > Limits.consumerAckHolesMax) {
      throw new InvalidArgumentError(
        `consumerAckHolesMax must be an integer from 1 to ${Limits.consumerAckHolesMax}`,
      );
    }
    this.#ackHolesMax = ackHolesMax;
    this.liveRouter = new LiveRouter({
      clock: this.clock,
      bufferMessagesMaxDefault: options.liveBufferMessagesDefault ?? 1_000,
    });
  }

  /** Opens the broker: reloads every stream and durable consumer defined in `dataDir`. */
  static async open(options: BrokerCoreOptions = {}): Promise<BrokerCore> {
    const lockedDir = options.storage === 'memory' ? undefined : options.dataDir;
    const lock = lockedDir === undefined ? undefined : await DirectoryLock.acquire(lockedDir);
    try {
      return await BrokerCore.#openLocked(options, lock);
    } catch (error) {
      await lock?.release();
      throw error;
    }
  }

  static async #openLocked(options: BrokerCoreOptions, lock: DirectoryLock | undefined): Promise<BrokerCore> {
    const core = new BrokerCore(options);
    core.#lock = lock;
    core.#producers = await ProducerRegistry.open(options.storage === 'memory' ? undefined : options.dataDir);
    for (const definition of await core.#definitions.load()) {
      const stream = await core.#openStream(definition.config);
      for (const consumer of definition.consumers) await stream.addConsumer(consumer);
    }
    // core2: transactions, after every stream and consumer exists (recovery applies to them).
    const dataDir = options.storage === 'memory' ? undefined : options.dataDir;
    const transactionLogOptions = {
      fsync: { kind: 'always' } as const,
      clock: core.clock,
      segmentBytesMax: 32 * 1024 * 1024,
    };
    const { transactions, unapplied } = await TransactionLog.open(
      dataDir === undefined
        ? createMemoryLog(transactionLogOptions)
        : await openFileLog(path.join(dataDir, 'transactions'), transactionLogOptions),
    );
    core.#transactions = new TransactionCoordinator(core.#transactionHost(), transactions);
    await core.#transactions.recover(unapplied);
    return core;
  }

  openSession(options: SessionOptions = {}): CoreSession {
    this.#assertOpen();
    const session = new Session(this, `session-${this.#nextSessionId++}`, options.clientId);
    this.#sessions.set(session.id, session);
    return session;
  }

  metrics(): BrokerMetrics {
    return {
      published: this.#published,
      dropped: this.#dropped,
      backgroundErrors: this.#backgroundErrors,
      sessions: this.#sessions.size,
      streams: this.#streams.size,
    };
  }

  // Publishing (SessionHost).

  /** Returns how many took it: a capturing stream counts one, plus each live subscriber. */
  publish(input: PublishInput, sessionId: string | undefined): number {
    this.#assertOpen();
    const message = createMessage(input, this.clock.nowMs());
    this.#checkProducer(input);
    const stream = this.#capturing(message);
    // The stream first: when it refuses (full), live subscribers do not see the message either.
    stream?.publish(message, undefined, input.producer);
    const live = this.#publishLive(stream, message, sessionId);
    if (stream === undefined && live === 0) this.#dropped += 1;
    else this.#published += 1;
    return (stream === undefined ? 0 : 1) + live;
  }

  publishConfirmed(input: PublishInput, sessionId: string | undefined): Promise<PublishAck> {
    return new Promise((resolve, reject) => {
      this.publishConfirmedThen(input, sessionId, (error, ack) => {
        if (error !== undefined) reject(error);
        else resolve(ack as PublishAck);
      });
    });
  }

  /**
   * publishConfirmed with a callback instead of a promise per message. Invalid input, a
   * missing stream and a refusing stream are reported through `done` (on a later turn) too.
   */
  publishConfirmedThen(
    input: PublishInput,
    sessionId: string | undefined,
    done: PublishConfirmCallback,
  ): void {
    let stream: Stream | undefined;
    let message: Message;
    try {
      this.#assertOpen();
      message = createMessage(input, this.clock.nowMs());
      this.#checkProducer(input);
      stream = this.#capturing(message);
      if (stream === undefined) {
        this.liveRouter.publish(message, sessionId);
        throw new WeirError(ErrorCode.NoStream, `no stream captures subject '${message.subject}'`);
      }
      // Queued synchronously: a full stream throws here, before live subscribers see anything.
      this.#store_(stream, message, input.producer, done);
    } catch (error) {
      queueMicrotask(() => done(error instanceof Error ? error : new Error(String(error)), undefined));
      return;
    }
    this.#publishLive(stream, message, sessionId);
    this.#published += 1;
  }

  /** Queues `message` on `stream` (throws if the stream refuses it); `done` runs once stored. */
  #store_(
    stream: Stream,
    message: Message,
    producer: ProducerStamp | undefined,
    done: PublishConfirmCallback,
  ): void {
    const name = stream.name;
    stream.publish(
      message,
      (error, partition, offset, duplicate) => {
        if (error !== undefined) done(error, undefined);
        else if (duplicate === true) done(undefined, { stream: name, partition, offset, duplicate: true });
        else if (offset < 0)
          done(undefined, { stream: name, partition, offset, duplicate: false, delayed: true });
        else done(undefined, { stream: name, partition, offset, duplicate: false });
      },
      producer,
    );
  }

  /**
   * core2: a delayed message a stream captures waits in the stream's delay index, on disk,
   * and reaches live subscribers when it is released (not held in the live router's memory).
   */
  #publishLive(stream: Stream | undefined, message: Message, sessionId: string | undefined): number {
    if (stream?.delayed?.holds(message) === true) return 1;
    return this.liveRouter.publish(message, sessionId);
  }

  /** core2: idempotent producer stamps are checked, and fenced epochs refused, before storing. */
  #checkProducer(input: PublishInput): void {
    const producer = input.producer;
    if (producer === undefined) return;
    checkStamp(producer);
    this.#producers.checkEpoch(producer.id, producer.epoch);
  }

  beginTransaction(sessionId: string, options: TransactionOptions | undefined): Transaction {
    this.#assertOpen();
    return this.#transactions.begin(sessionId, options);
  }

  abortTransactions(sessionId: string): Promise<void> {
    return this.#transactions.abortSession(sessionId);
  }

  #transactionHost(): TransactionHost {
    return {
      clock: this.clock,
      createMessage: (input) => createMessage(input, this.clock.nowMs()),
      capturing: (message) => this.#capturing(message),
      stream: (name) => this.#streams.get(name),
      consumer: (stream, name) => this.#streams.get(stream)?.consumers.get(name),
      publishLive: (message, sessionId) => void this.liveRouter.publish(message, sessionId),
      onError: this.#report,
    };
  }

  /** core2: a session's temporary queue (request-reply.ts): a memory workqueue and its consumer. */
  async addTemporaryQueue(stream: string, subject: string): Promise<void> {
    await this.addStream({ name: stream, subjects: [subject], retention: 'workqueue', storage: 'memory' });
    await this.addConsumer(stream, { name: stream, dispatch: 'shared' });
  }

  async deleteTemporaryQueue(stream: string): Promise<void> {
    if (this.#closed) return;
    await this.deleteStream(stream);
  }

  initProducer(name: string | undefined): Promise<ProducerIdentity> {
    this.#assertOpen();
    return this.#producers.initProducer(name);
  }

  #capturing(message: Message): Stream | undefined {
    let stream = this.#captureCache.get(message.subject);
    if (stream === undefined) {
      stream = this.#capture.match(message.subject)[0] ?? null;
      // Bounded: a broker seeing more distinct subjects than this just matches through the trie.
      if (this.#captureCache.size >= captureCacheSubjectsMax) this.#captureCache.clear();
      this.#captureCache.set(message.subject, stream);
    }
    if (stream === null) return undefined;
    return stream;
  }

  consumer(streamName: string, name: string): Consumer {
    const consumer = this.#stream(streamName).consumers.get(name);
    if (consumer === undefined) {
      throw new WeirError(
        ErrorCode.ConsumerNotFound,
        `consumer '${name}' not found on stream '${streamName}'`,
      );
    }
    return consumer;
  }

  onSessionClosed(session: Session): void {
    this.#sessions.delete(session.id);
  }

  // Streams.

  addStream(input: StreamConfigInput): Promise<StreamInfo> {
    return this.#serialise(async () => {
      const config = parseStreamConfig(input);
      const existing = this.#streams.get(config.name);
      if (existing !== undefined) {
        if (JSON.stringify(existing.config) === JSON.stringify(config)) return streamInfo(existing);
        throw new WeirError(
          ErrorCode.StreamExists,
          `stream '${config.name}' exists with a different configuration`,
        );
      }
      if (this.#streams.size >= Limits.streamsMax) {
        throw new WeirError(ErrorCode.LimitExceeded, `at most ${Limits.streamsMax} streams`);
      }
      this.#checkOverlap(config.name, config.subjects);
      const stream = await this.#openStream(config);
      await this.#saveDefinitions();
      return streamInfo(stream);
    });
  }

  updateStream(input: StreamConfigInput): Promise<StreamInfo> {
    return this.#serialise(async () => {
      const stream = this.#stream(input.name);
      const config = mergeStreamUpdate(stream.config, input);
      this.#checkOverlap(config.name, config.subjects);
      for (const subject of stream.config.subjects) this.#capture.remove(subject, stream);
      for (const subject of config.subjects) this.#capture.add(subject, stream);
      this.#captureCache.clear();
      stream.reconfigure(config);
      await this.#saveDefinitions();
      return streamInfo(stream);
    });
  }

  deleteStream(name: string): Promise<boolean> {
    return this.#serialise(async () => {
      const stream = this.#streams.get(name);
      if (stream === undefined) return false;
      this.#streams.delete(name);
      for (const subject of stream.config.subjects) this.#capture.remove(subject, stream);
      this.#captureCache.clear();
      await stream.close();
      await this.#store.remove(stream.config);
      await this.#saveDefinitions();
      return true;
    });
  }

  /**
   * The stream a topic subscription should use for `filter`: one whose subjects include it,
   * else the first whose subjects overlap it (its messages outside the filter are filtered out).
   */
  findStreamFor(filter: string): string | undefined {
    for (const stream of this.#streams.values()) {
      if (stream.config.subjects.includes(filter)) return stream.name;
    }
    for (const stream of this.#streams.values()) {
      if (stream.config.subjects.some((subject) => filtersOverlap(subject, filter))) return stream.name;
    }
    return undefined;
  }

  streamInfo(name: string): StreamInfo {
    return streamInfo(this.#stream(name));
  }

  listStreams(): StreamInfo[] {
    return [...this.#streams.values()].map(streamInfo);
  }

  // Consumers.

  addConsumer(streamName: string, input: ConsumerConfigInput): Promise<ConsumerInfo> {
    return this.#serialise(async () => {
      const stream = this.#stream(streamName);
      const config = parseConsumerConfig(input);
      const existing = stream.consumers.get(config.name);
      if (existing !== undefined) {
        if (JSON.stringify(existing.config) === JSON.stringify(config)) return consumerInfo(stream, existing);
        throw new WeirError(
          ErrorCode.ConsumerExists,
          `consumer '${config.name}' exists with a different configuration`,
        );
      }
      if (stream.consumers.size >= Limits.consumersPerStreamMax) {
        throw new WeirError(
          ErrorCode.LimitExceeded,
          `at most ${Limits.consumersPerStreamMax} consumers per stream`,
        );
      }
      const consumer = await stream.addConsumer(config);
      if (config.durable) await this.#saveDefinitions();
      return consumerInfo(stream, consumer);
    });
  }

  deleteConsumer(streamName: string, name: string): Promise<boolean> {
    return this.#serialise(async () => {
      const stream = this.#stream(streamName);
      const durable = stream.consumers.get(name)?.config.durable ?? false;
      if (!stream.deleteConsumer(name)) return false;
      if (durable) await this.#saveDefinitions();
      await stream.stateLog.flush();
      return true;
    });
  }

  consumerInfo(streamName: string, name: string): ConsumerInfo {
    return consumerInfo(this.#stream(streamName), this.consumer(streamName, name));
  }

  listConsumers(streamName: string): ConsumerInfo[] {
    const stream = this.#stream(streamName);
    return [...stream.consumers.values()].map((consumer) => consumerInfo(stream, consumer));
  }

  /** Republishes chosen dead letters of a dead-letter stream to their original subjects. */
  async redrive(deadLetterStream: string, selection: RedriveSelection = {}): Promise<RedriveResult> {
    this.#assertOpen();
    const stream = this.#stream(deadLetterStream);
    const partitionIndex = selection.partition ?? 0;
    const partition = stream.partitions[partitionIndex];
    if (partition === undefined)
      throw new InvalidArgumentError(`stream '${deadLetterStream}' has no partition ${partitionIndex}`);
    const maxMessages = Math.min(
      selection.maxMessages ?? Limits.redriveMessagesMax,
      Limits.redriveMessagesMax,
    );
    const chosen = selection.offsets === undefined ? undefined : new Set(selection.offsets);
    let from = Math.max(selection.fromOffset ?? partition.firstOffset, partition.firstOffset);
    const to = Math.min(selection.toOffset ?? partition.nextOffset, partition.nextOffset);
    if (chosen !== undefined && chosen.size > 0) from = Math.max(from, Math.min(...chosen));
    let redriven = 0;
    let skipped = 0;
    while (from < to && redriven + skipped < maxMessages) {
      const wanted = (offset: number): boolean => offset < to && (chosen === undefined || chosen.has(offset));
      const { messages, scannedTo } = await partition.read(from, maxMessages - redriven - skipped, wanted);
      for (const stored of messages) {
        let input: PublishInput;
        try {
          input = redriveInput(stored.message);
        } catch {
          skipped += 1;
          continue;
        }
        await this.publishConfirmed(input, undefined);
        redriven += 1;
      }
      if (scannedTo <= from) break;
      from = scannedTo;
    }
    return { redriven, skipped };
  }

  /** Stops intake, drains append queues, flushes consumer state, fsyncs and closes every log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of [...this.#sessions.values()]) await session.close();
    await this.#transactions.close();
    this.liveRouter.close();
    await this.#admin.catch(() => undefined);
    for (const stream of this.#streams.values()) await stream.close();
    this.#streams.clear();
    await this.#lock?.release();
  }

  // Internals.

  async #openStream(config: StreamInfo['config']): Promise<Stream> {
    const logs = await this.#store.open(config);
    const { stateLog, states } = await ConsumerStateLog.open(logs.consumerState, this.#snapshotBytes);
    const stream = new Stream(
      {
        clock: this.clock,
        ackHolesMax: this.#ackHolesMax,
        deadLetter: (source, stored, details) => this.#deadLetter(source, stored, details),
        onConsumerIdle: (source, consumer) =>
          void this.deleteConsumer(source.name, consumer.name).catch(this.#report),
        onError: this.#report,
      },
      config,
      logs.partitions,
      stateLog,
      states,
    );
    // core2 hooks: delayed delivery (delayed-delivery.ts) and dedup (dedup/stream-dedup.ts).
    stream.delayed = await DelayedDelivery.open(
      logs.delay,
      this.clock,
      stream.partitions,
      this.#report,
      (message) => {
        if (!this.#closed) this.liveRouter.publish(message, undefined);
      },
    );
    stream.dedup = await StreamDedup.open(
      logs.partitions,
      logs.directory,
      {
        windowMs: config.dedupWindowMs,
        windowIds: config.dedupWindowIds ?? Limits.dedupWindowIdsDefault,
      },
      this.clock,
    );
    this.#streams.set(config.name, stream);
    for (const subject of config.subjects) this.#capture.add(subject, stream);
    this.#captureCache.clear();
    return stream;
  }

  async #deadLetter(source: Stream, stored: StoredMessage, details: DeadLetterDetails): Promise<void> {
    const message = createMessage(deadLetterInput(source.config, stored, details), this.clock.nowMs());
    let target = this.#capturing(message);
    if (target === undefined) {
      await this.addStream({
        name: deadLetterStreamName(source.name),
        subjects: [source.config.deadLetterSubject],
        storage: source.config.storage,
        fsync: source.config.fsync,
      });
      target = this.#capturing(message);
    }
    if (target === undefined || target === source) {
      throw new WeirError(ErrorCode.NoStream, `no dead-letter stream for '${source.name}'`);
    }
    const stream = target;
    await new Promise<void>((resolve, reject) =>
      this.#store_(stream, message, undefined, (error) => (error === undefined ? resolve() : reject(error))),
    );
  }

  #checkOverlap(name: string, subjects: readonly string[]): void {
    for (const other of this.#streams.values()) {
      if (other.name === name) continue;
      for (const mine of subjects) {
        for (const theirs of other.config.subjects) {
          if (filtersOverlap(mine, theirs)) {
            throw new InvalidArgumentError(
              `subject '${mine}' overlaps '${theirs}', which stream '${other.name}' already captures`,
            );
          }
        }
      }
    }
  }

  #stream(name: string): Stream {
    const stream = this.#streams.get(name);
    if (stream === undefined) throw new WeirError(ErrorCode.StreamNotFound, `stream '${name}' not found`);
    return stream;
  }

  #saveDefinitions(): Promise<void> {
    return this.#definitions.save(
      // core2: temporary queues (request-reply.ts) end with their session, never persist.
      [...this.#streams.values()]
        .filter((stream) => !isTemporaryQueue(stream.config))
        .map((stream) => ({
          config: stream.config,
          consumers: [...stream.consumers.values()].map((consumer) => consumer.config),
        })),
    );
  }

  #serialise<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new WeirError(ErrorCode.Closed, 'broker is closed'));
    const next = this.#admin.then(work, work);
    this.#admin = next.catch(() => undefined);
    return next;
  }

  readonly #report = (error: unknown): void => {
    this.#backgroundErrors += 1;
    this.#onError?.(error);
  };

  #assertOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'broker is closed');
  }
}

export type { CoreSession };
