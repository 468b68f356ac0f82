// A stream: its partitions, its consumers, and the retention that bounds it (DESIGN.md §1).
//
// Publishing picks a partition (key hash, or round-robin without a key), checks the limits
// when `discard: new` (a publisher over the limit gets WEIR_STREAM_FULL), and queues the
// message on the partition. When the partition has appended a batch the stream matches each
// message's subject once against the filtered consumers' subject trie (DESIGN.md §4) and
// wakes its consumers.
//
// Retention moves a partition's `firstOffset` up and asks the log to delete the whole
// segments below it:
// - limits: max messages (exact), max bytes (whole segments), max age (exact by timestamp,
//   checked every min(maxAgeMs, 1 s) on the injected clock);
// - workqueue: the lowest ack floor of its consumers (kept while it has none);
// - interest: the lowest ack floor of its consumers (nothing is kept while it has none);
// - compact: the limits above, and every compactionIntervalMs (on the clock) each partition's
//   log is compacted by key when its dirty ratio calls for it (storage/compaction.ts): the
//   key is the message key, else its subject; an empty body is a tombstone. Compaction runs
//   in the same queue as segment deletions, so the two never overlap.

import type { Clock, TimerHandle } from '../common/clock.js';
import { Offset } from '../common/branded.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import type { ConsumerConfig, Message, ProducerStamp, StreamConfig } from './api.js';
import { Consumer, type ConsumerHost, type DeadLetterDetails, type PartitionStart } from './consumer.js';
import type { ConsumerState, ConsumerStateLog } from './consumer-state-log.js';
import type { StreamDedup } from './dedup/stream-dedup.js';
import type { DelayedDelivery } from './delayed-delivery.js';
import { partitionForKey } from './partition-hash.js';
import { startPositions } from './start-position.js';
import { type StoredMessage, StreamPartition } from './stream-partition.js';
import { SubjectTrie } from './subject-trie.js';
import { Limits } from '../common/limits.js';
import type { Log, LogRecord } from '../storage/log.js';
import { messageBodyIsEmpty, messageCompactionKey } from './message-codec.js';

export interface StreamHost {
  readonly clock: Clock;
  readonly ackHolesMax: number;
  deadLetter(stream: Stream, stored: StoredMessage, details: DeadLetterDetails): Promise<void>;
  onConsumerIdle(stream: Stream, consumer: Consumer): void;
  onError(error: unknown): void;
}

export interface StreamCounters {
  published: number;
  rejectedFull: number;
  /** Compaction runs that rewrote segments (`compact` streams). */
  compactions: number;
}

export class Stream implements ConsumerHost {
  config: StreamConfig;
  readonly partitions: StreamPartition[];
  readonly stateLog: ConsumerStateLog;
  readonly consumers = new Map<string, Consumer>();
  readonly counters: StreamCounters = { published: 0, rejectedFull: 0, compactions: 0 };
  /** Delayed delivery (core2), set once the stream's delay index is open. */
  delayed: DelayedDelivery | undefined;
  /** Deduplication (core2), set once rebuilt from the logs. */
  dedup: StreamDedup | undefined;
  readonly #host: StreamHost;
  readonly #filtered = new SubjectTrie<Consumer>();
  readonly #unfiltered = new Set<Consumer>();
  #turn = 0;
  #trimScheduled = false;
  #ageTimer: TimerHandle | undefined;
  #compactionTimer: TimerHandle | undefined;
  #closed = false;
  /** Consumer state replayed from the state log, used once when each consumer is defined. */
  #replayed: Map<string, ConsumerState>;
  #deletions: Promise<void> = Promise.resolve();

  constructor(
    host: StreamHost,
    config: StreamConfig,
    logs: readonly Log[],
    stateLog: ConsumerStateLog,
    replayed: Map<string, ConsumerState>,
  ) {
    this.#host = host;
    this.config = config;
    this.stateLog = stateLog;
    this.#replayed = replayed;
    this.partitions = logs.map(
      (log, index) =>
        new StreamPartition(index, log, (partition, stored) => this.#onAppended(partition, stored)),
    );
    stateLog.setSnapshotProvider(() =>
      [...this.consumers.values()].map((consumer) => ({
        consumer: consumer.name,
        partitions: consumer.snapshot(),
      })),
    );
    this.#armAgeTimer();
    this.#armCompactionTimer();
  }

  get clock(): Clock {
    return this.#host.clock;
  }

  get ackHolesMax(): number {
    return this.#host.ackHolesMax;
  }

  get name(): string {
    return this.config.name;
  }

  messageCount(): number {
    let count = 0;
    for (const partition of this.partitions) count += partition.messageCount;
    return count;
  }

  sizeBytes(): number {
    let bytes = 0;
    for (const partition of this.partitions) bytes += partition.log.sizeBytes;
    return bytes;
  }

  /**
   * Queues a message; `confirm` runs once it is stored (or failed), with `duplicate` when
   * dedup answered it. Throws WEIR_STREAM_FULL, WEIR_PRODUCER_FENCED.
   */
  publish(
    message: Message,
    confirm?: (error: Error | undefined, partition: number, offset: number, duplicate?: boolean) => void,
    producer?: ProducerStamp,
    /** core2: transactions choose the partition when the message joins them. */
    chosenPartition?: number,
  ): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, `stream '${this.name}' is closed`);
    if (this.config.discard === 'new') this.#checkRoom(message);
    const index = chosenPartition ?? this.partitionFor(message);
    // core2 hooks: deduplication (dedup/stream-dedup.ts), then a message due later waits in
    // the delay index (delayed-delivery.ts).
    const held = this.delayed?.holds(message) === true;
    if (producer !== undefined && held) {
      throw new WeirError(ErrorCode.NotSupported, 'idempotent producers cannot publish delayed messages');
    }
    // A stamped publish reserves its sequence in admit: refuse an overloaded one before that,
    // or the reservation would outlive it and its retry would wait for itself.
    if (producer !== undefined && !held) (this.partitions[index] as StreamPartition).checkQueueRoom();
    if (this.dedup !== undefined) {
      const admitted = this.dedup.admit(index, message, producer, confirm);
      if (admitted === undefined) return;
      confirm = admitted.confirm;
    }
    if (held && this.delayed !== undefined) {
      this.delayed.schedule(index, message, confirm);
      this.counters.published += 1;
      return;
    }
    const partition = this.partitions[index] as StreamPartition;
    partition.enqueue(message, confirm, producer);
    this.counters.published += 1;
  }

  #checkRoom(message: Message): void {
    const { maxMessages, maxBytes } = this.config;
    let messages = 0;
    let bytes = 0;
    for (const partition of this.partitions) {
      messages += partition.messageCount + partition.queuedMessages;
      bytes += partition.log.sizeBytes + partition.queuedBytes;
    }
    const overMessages = maxMessages !== undefined && messages + 1 > maxMessages;
    const overBytes = maxBytes !== undefined && bytes + message.body.length > maxBytes;
    if (overMessages || overBytes) {
      this.counters.rejectedFull += 1;
      throw new WeirError(
        ErrorCode.StreamFull,
        `stream '${this.name}' is full (${overMessages ? `max ${maxMessages} messages` : `max ${maxBytes} bytes`}, discard new)`,
      );
    }
  }

  /**
   * The partition a message goes to: by key hash, or round-robin without a key. In a compact
   * stream a message without a key is compacted by its subject, so it goes by the subject's
   * hash: every message of one compaction key must share a partition, or a newer value (or a
   * deletion) in one partition would leave older values alive in the others.
   */
  partitionFor(message: Message): number {
    const count = this.partitions.length;
    if (count === 1) return 0;
    if (message.key !== undefined) return partitionForKey(message.key, count);
    if (this.config.retention === 'compact') return partitionForKey(message.subject, count);
    return this.#turn++ % count;
  }

  /** Defines a consumer: from replayed state after a restart, else from its start position. */
  async addConsumer(config: ConsumerConfig): Promise<Consumer> {
    const replayed = this.#replayed.get(config.name);
    this.#replayed.delete(config.name);
    let starts: PartitionStart[];
    if (replayed !== undefined) {
      starts = this.partitions.map((partition) => {
        const state = replayed.get(partition.index);
        return {
          floor: Math.max(state?.floor ?? partition.firstOffset, 0),
          acked: state?.acked ?? [],
          counts: state?.counts ?? new Map(),
          scanUntil: partition.nextOffset,
        };
      });
    } else {
      starts = await startPositions(this.partitions, config);
    }
    if (this.consumers.has(config.name)) {
      throw new WeirError(
        ErrorCode.ConsumerExists,
        `consumer '${config.name}' exists on stream '${this.name}'`,
      );
    }
    // Synchronous from here: no append can slip between scanUntil and the trie registration.
    const finalStarts = starts.map((start, index) => {
      const partition = this.partitions[index] as StreamPartition;
      const floor =
        config.deliverPolicy.kind === 'new' && replayed === undefined ? partition.nextOffset : start.floor;
      return { ...start, floor, scanUntil: partition.nextOffset };
    });
    const consumer = new Consumer(this, config, finalStarts);
    this.consumers.set(config.name, consumer);
    if (config.filterSubject !== undefined) this.#filtered.add(config.filterSubject, consumer);
    else this.#unfiltered.add(consumer);
    if (replayed === undefined) this.stateLog.recordSnapshot(config.name, consumer.snapshot());
    await this.stateLog.flush();
    return consumer;
  }

  deleteConsumer(name: string): boolean {
    const consumer = this.consumers.get(name);
    if (consumer === undefined) return false;
    this.consumers.delete(name);
    if (consumer.config.filterSubject !== undefined)
      this.#filtered.remove(consumer.config.filterSubject, consumer);
    consumer.close(new WeirError(ErrorCode.ConsumerNotFound, `consumer '${name}' was deleted`));
    this.stateLog.recordDeleted(name);
    this.#scheduleTrim();
    return true;
  }

  // ConsumerHost
  deadLetter(stored: StoredMessage, details: DeadLetterDetails): Promise<void> {
    return this.#host.deadLetter(this, stored, details);
  }

  onAcked(): void {
    if (this.#trimsByAcks()) this.#scheduleTrim();
  }

  /** Whether acks decide what is kept (interest and workqueue), not limits alone. */
  #trimsByAcks(): boolean {
    return this.config.retention === 'interest' || this.config.retention === 'workqueue';
  }

  onIdle(consumer: Consumer): void {
    this.#host.onConsumerIdle(this, consumer);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ageTimer?.cancel();
    this.#compactionTimer?.cancel();
    for (const consumer of this.consumers.values())
      consumer.close(new WeirError(ErrorCode.Closed, 'broker closed'));
    await this.delayed?.close();
    for (const partition of this.partitions) await partition.whenIdle();
    // A compaction run under way writes a producer snapshot: let it end before the last one.
    await this.#deletions;
    await this.dedup?.close();
    await this.stateLog.close();
    for (const partition of this.partitions) await partition.close();
  }

  #onAppended(partitionIndex: number, stored: readonly StoredMessage[]): void {
    // Filtered consumers hear only of batches that hold a match for them: the work per batch
    // is the matches plus the unfiltered consumers, however many filtered ones exist.
    const woken = new Set<Consumer>();
    if (this.#filtered.size > 0) {
      for (const entry of stored) {
        for (const consumer of this.#filtered.match(entry.message.subject)) {
          consumer.partitions[partitionIndex]?.addMatch(entry.offset);
          woken.add(consumer);
        }
      }
    }
    const partition = this.partitions[partitionIndex] as StreamPartition;
    this.#applyLimits(partition);
    for (const consumer of this.#unfiltered) consumer.onAppended();
    for (const consumer of woken) consumer.onAppended();
  }

  #applyLimits(partition: StreamPartition): void {
    const { maxMessages, maxBytes, retention } = this.config;
    if (retention === 'interest' && this.consumers.size === 0) {
      this.#truncate(partition, partition.nextOffset);
      return;
    }
    if (this.config.discard === 'old' && maxMessages !== undefined) {
      // The limit is per stream; each partition keeps its share.
      const share = Math.max(1, Math.floor(maxMessages / this.partitions.length));
      if (partition.messageCount > share) this.#truncate(partition, partition.nextOffset - share);
    }
    if (this.config.discard === 'old' && maxBytes !== undefined) {
      const share = Math.max(1, Math.floor(maxBytes / this.partitions.length));
      if (partition.log.sizeBytes > share) {
        void this.#queueDeletion(async () => {
          const start = await partition.log.enforceRetention({ maxBytes: share }, this.clock.nowMs());
          this.#truncate(partition, start);
        });
      }
    }
  }

  /** Makes everything below `offset` unreadable and reclaims the whole segments below it. */
  #truncate(partition: StreamPartition, offset: number): void {
    const target = Math.min(offset, partition.nextOffset);
    if (target <= partition.firstOffset) return;
    partition.firstOffset = target;
    for (const consumer of this.consumers.values()) consumer.onTruncated(partition.index, target);
    // Reclaim sealed segments only: the active one goes when it rolls by size or age. Retiring
    // it here would roll the log on every ack batch of a queue whose consumer keeps up.
    // Readers start at partition.firstOffset, so what stays on disk below it is never read.
    void this.#queueDeletion(() =>
      partition.log.deleteBefore(Offset(Math.min(target, partition.log.activeSegmentBaseOffset))),
    );
  }

  #queueDeletion(work: () => Promise<void>): Promise<void> {
    this.#deletions = this.#deletions.then(work).catch((error: unknown) => {
      if (!this.#closed) this.#host.onError(error);
    });
    return this.#deletions;
  }

  #armCompactionTimer(): void {
    if (this.config.retention !== 'compact' || this.#closed) return;
    this.#compactionTimer = this.clock.setTimeout(() => {
      this.#compactionTimer = undefined;
      void this.compact();
      this.#armCompactionTimer();
    }, this.config.compactionIntervalMs ?? Limits.compactionIntervalMsDefault);
  }

  /**
   * Compacts every partition whose dirty ratio calls for it; resolves when done. Only
   * `compact` streams; run by the compaction timer.
   */
  compact(): Promise<void> {
    if (this.config.retention !== 'compact' || this.#closed) return Promise.resolve();
    const dedupWindowMs = this.config.dedupWindowMs;
    const options = {
      isTombstone: (record: LogRecord) => messageBodyIsEmpty(record.value),
      tombstoneRetentionMs: this.config.tombstoneRetentionMs ?? Limits.tombstoneRetentionMsDefault,
      dirtyRatioMin: this.config.compactionDirtyRatio ?? Limits.compactionDirtyRatioDefault,
    };
    return this.#queueDeletion(async () => {
      for (const partition of this.partitions) {
        if (this.#closed) return;
        // The run leaves alone every record from `keptFrom` on (no key: kept). Always a suffix
        // of the log, so a tombstone the run drops has no earlier record of its key left.
        // - Idempotent producers' tables are rebuilt from batch stamps after a crash: their
        //   snapshot is written first, and what it does not cover is kept.
        const snapshotOffset = await this.dedup?.saveSnapshotBeforeCompaction(
          partition.index,
          partition.nextOffset,
        );
        if (this.#closed) return;
        const nowMs = this.clock.nowMs();
        // - After a restart the message-id window is rebuilt from the messages from
        //   offsetForTimestamp(window start) on; a retry of one compaction had removed would be
        //   stored again, as its key's newest value: those messages are kept.
        const windowOffset =
          dedupWindowMs === undefined
            ? undefined
            : await partition.log.offsetForTimestamp(nowMs - dedupWindowMs);
        const keptFrom = Math.min(snapshotOffset ?? Infinity, windowOffset ?? Infinity);
        const keyOf = (record: LogRecord): Buffer | undefined =>
          record.offset >= keptFrom ? undefined : messageCompactionKey(record.value);
        const result = await partition.log.compact({ ...options, keyOf, nowMs });
        if (result.compacted) {
          this.counters.compactions += 1;
          partition.forgetCachedBelow(partition.log.activeSegmentBaseOffset);
        }
        // A run that emptied the oldest segments moved the log's start.
        if (partition.log.startOffset > partition.firstOffset)
          this.#truncate(partition, partition.log.startOffset);
      }
    });
  }

  #scheduleTrim(): void {
    if (this.#trimScheduled || !this.#trimsByAcks()) return;
    this.#trimScheduled = true;
    setImmediate(() => {
      this.#trimScheduled = false;
      if (this.#closed) return;
      for (const partition of this.partitions) {
        let floor = Number.POSITIVE_INFINITY;
        for (const consumer of this.consumers.values()) {
          floor = Math.min(floor, consumer.partitions[partition.index]?.tracker.floor ?? 0);
        }
        if (floor === Number.POSITIVE_INFINITY) {
          if (this.config.retention === 'interest') this.#truncate(partition, partition.nextOffset);
          continue;
        }
        this.#truncate(partition, floor);
      }
    });
  }

  #armAgeTimer(): void {
    const maxAgeMs = this.config.maxAgeMs;
    if (maxAgeMs === undefined || this.#closed) return;
    const checkMs = Math.max(10, Math.min(maxAgeMs, 1_000));
    this.#ageTimer = this.clock.setTimeout(() => {
      this.#ageTimer = undefined;
      this.enforceMaxAge();
      this.#armAgeTimer();
    }, checkMs);
  }

  /** Drops messages older than maxAgeMs now (also run by the stream's age timer). */
  enforceMaxAge(): void {
    const maxAgeMs = this.config.maxAgeMs;
    if (maxAgeMs === undefined) return;
    const cutoffMs = this.clock.nowMs() - maxAgeMs;
    for (const partition of this.partitions) {
      void this.#queueDeletion(async () => {
        const offset = await partition.log.offsetForTimestamp(cutoffMs);
        this.#truncate(partition, offset);
      });
    }
  }

  /** Re-reads limits after `updateStream`. */
  reconfigure(config: StreamConfig): void {
    this.config = config;
    this.#ageTimer?.cancel();
    this.#armAgeTimer();
    this.#compactionTimer?.cancel();
    this.#armCompactionTimer();
    for (const partition of this.partitions) this.#applyLimits(partition);
  }
}
