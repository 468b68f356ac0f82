// A consumer: a named cursor on a stream that delivers to the clients attached to it.
//
// Single-threaded by construction: every method runs on the event loop and `#dispatch`
// guards against re-entry (a client may ack synchronously inside its delivery callback), so
// no two dispatch passes interleave. Reads from the log are the only asynchronous steps;
// each partition has at most one read and one redelivery load in flight.
//
// Bounds: unacked messages (in flight, waiting for redelivery, being dead-lettered) never
// exceed `maxAckPending`; the ack tracker's holes never exceed `consumerAckHolesMax`; the
// read-ahead buffer holds at most one read. Reaching a bound pauses delivery of new messages
// and counts the pause (`pausedByAckPending`, `pausedByAckHoles`).

import type { Clock } from '../common/clock.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';
import type { AckOutcome, ConsumerConfig, Delivery, NackOptions, StreamConfig } from './api.js';
import { backoffDelayMs } from './consumer-config.js';
import { ConsumerPartition, type InFlight, type Receiver } from './consumer-partition.js';
import { ConsumerReader } from './consumer-reader.js';
import type { ConsumerStateLog, PartitionSnapshot } from './consumer-state-log.js';
import { ReceiverSet } from './receiver-set.js';
import { compileSelector, type Selector } from './selector/selector.js';
import type { StoredMessage, StreamPartition } from './stream-partition.js';
import { TimerHeap, type TimerEntry } from './timer-heap.js';

export type DeadLetterReason = 'max_deliveries' | 'rejected' | 'expired';

/** The stream, as its consumers see it. */
export interface ConsumerHost {
  readonly config: StreamConfig;
  readonly partitions: readonly StreamPartition[];
  readonly clock: Clock;
  readonly stateLog: ConsumerStateLog;
  /** Holes (unacked offsets below the highest ack) past which new deliveries pause. */
  readonly ackHolesMax: number;
  deadLetter(stored: StoredMessage, details: DeadLetterDetails): Promise<void>;
  onAcked(consumer: Consumer): void;
  onIdle(consumer: Consumer): void;
}

export interface DeadLetterDetails {
  readonly consumer: string;
  readonly partition: number;
  readonly deliveryCount: number;
  readonly reason: DeadLetterReason;
  readonly lastError: string | undefined;
}

export interface ConsumerMetrics {
  delivered: number;
  redelivered: number;
  acked: number;
  nacked: number;
  expiredAckWaits: number;
  staleAcks: number;
  duplicateAcks: number;
  deadLettered: number;
  deadLetterFailures: number;
  expiredMessages: number;
  pausedByAckPending: number;
  pausedByAckHoles: number;
  /** Messages the selector did not select, settled without delivery (core2). */
  selectorSkipped: number;
}

export interface PartitionStart {
  readonly floor: number;
  readonly acked: readonly { start: number; end: number }[];
  readonly counts: ReadonlyMap<number, [number, string | undefined]>;
  readonly scanUntil: number;
}

let nextReceiverId = 1;

export class Consumer {
  config: ConsumerConfig;
  readonly host: ConsumerHost;
  readonly partitions: ConsumerPartition[];
  readonly metrics: ConsumerMetrics = {
    delivered: 0,
    redelivered: 0,
    acked: 0,
    nacked: 0,
    expiredAckWaits: 0,
    staleAcks: 0,
    duplicateAcks: 0,
    deadLettered: 0,
    deadLetterFailures: 0,
    expiredMessages: 0,
    pausedByAckPending: 0,
    pausedByAckHoles: 0,
    selectorSkipped: 0,
  };
  /** The compiled message selector, if the consumer has one (core2: consumer-selection.ts). */
  readonly selector: Selector | undefined;
  readonly receivers: ReceiverSet;
  readonly #reader: ConsumerReader;
  readonly #ackWaits: TimerHeap;
  readonly #delays: TimerHeap;
  readonly #sessions = new Map<string, number>();
  #unacked = 0;
  #paused: 'ack_pending' | 'ack_holes' | undefined;
  #pausedBefore: 'ack_pending' | 'ack_holes' | undefined;
  #dispatching = false;
  #dispatchAgain = false;
  #dispatchQueued = false;
  #partitionTurn = 0;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(host: ConsumerHost, config: ConsumerConfig, starts: readonly PartitionStart[]) {
    this.host = host;
    this.config = config;
    this.receivers = new ReceiverSet(config.dispatch);
    this.selector = config.selector === undefined ? undefined : compileSelector(config.selector);
    this.partitions = starts.map((start, index) => {
      const partition = new ConsumerPartition(index, start.floor, start.scanUntil);
      for (const range of start.acked) partition.tracker.ackRange(range.start, range.end);
      for (const [offset, [count, error]] of start.counts) {
        if (partition.tracker.isAcked(offset)) continue;
        partition.deliveryCounts.set(offset, count);
        if (error !== undefined) partition.lastErrors.set(offset, error);
      }
      partition.cursor = partition.tracker.floor;
      return partition;
    });
    this.#reader = new ConsumerReader(this);
    this.#ackWaits = new TimerHeap(
      host.clock,
      (entry) => this.#onAckWaitExpired(entry),
      (entry) => this.partitions[entry.partition]?.inFlight.get(entry.offset) === entry,
    );
    this.#delays = new TimerHeap(
      host.clock,
      (entry) => this.#onDelayDue(entry),
      (entry) => this.partitions[entry.partition]?.parked.has(entry.offset) === true,
    );
  }

  get name(): string {
    return this.config.name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Delivered and not yet acked. */
  get unacked(): number {
    return this.#unacked;
  }

  get paused(): 'ack_pending' | 'ack_holes' | undefined {
    return this.#paused;
  }

  /** Bytes of consumer state held in memory (ack trackers, in-flight entries, read-ahead). */
  memoryBytes(): number {
    let bytes = 0;
    for (const partition of this.partitions) {
      bytes += partition.tracker.memoryBytes();
      // Measured (bench/suites/core.ts): about 290 bytes per in-flight delivery, all included.
      bytes += partition.inFlight.size * 290 + partition.deliveryCounts.size * 60;
      bytes += partition.matchedLength * 8;
      for (let index = partition.readAheadHead; index < partition.readAhead.length; index++) {
        bytes += (partition.readAhead[index]?.sizeBytes ?? 0) + 200;
      }
    }
    return bytes;
  }

  addReceiver(receiver: Receiver): void {
    this.#assertOpen();
    if (receiver.kind === 'push') {
      if (this.config.dispatch === 'exclusive' && this.receivers.push.length > 0) {
        throw new WeirError(
          ErrorCode.ConsumerBusy,
          `consumer '${this.name}' is exclusive and already has an attached client`,
        );
      }
      this.receivers.push.push(receiver);
    } else {
      this.receivers.pull.push(receiver);
    }
    if (receiver.kind === 'push') {
      this.#sessions.set(receiver.sessionId, (this.#sessions.get(receiver.sessionId) ?? 0) + 1);
    } else if (!this.#sessions.has(receiver.sessionId)) {
      // A session that fetched keeps an ephemeral consumer alive until it closes.
      this.#sessions.set(receiver.sessionId, 0);
    }
    this.dispatch();
  }

  newReceiverId(): number {
    return nextReceiverId++;
  }

  /**
   * Detaches a receiver. A push attachment's in-flight messages are redelivered
   * (`redeliver`); a finished pull request's deliveries stay with its session until the
   * session closes.
   */
  removeReceiver(receiver: Receiver, redeliver: boolean): void {
    if (receiver.closed) return;
    receiver.closed = true;
    this.receivers.remove(receiver);
    if (redeliver) this.#redeliverWhere((entry) => entry.receiver === receiver);
    if (receiver.kind === 'push') this.#releaseSession(receiver.sessionId);
    this.dispatch();
  }

  closeSession(sessionId: string): void {
    if (this.#closed) return;
    for (const receiver of [...this.receivers.push, ...this.receivers.pull]) {
      if (receiver.sessionId !== sessionId) continue;
      this.removeReceiver(receiver, true);
      // A fetch still waiting ends with the session.
      if (receiver.kind === 'pull') receiver.onClosed(new WeirError(ErrorCode.Closed, 'session closed'));
    }
    this.#redeliverWhere((entry) => entry.receiver.sessionId === sessionId);
    this.#releaseSession(sessionId, true);
    this.dispatch();
  }

  #redeliverWhere(predicate: (entry: InFlight) => boolean): void {
    for (const partition of this.partitions) {
      for (const entry of [...partition.inFlight.values()]) {
        if (!predicate(entry)) continue;
        this.#takeInFlight(partition, entry);
        this.#requeue(partition, entry.offset, entry.deliveryCount, 0, undefined);
      }
    }
  }

  #releaseSession(sessionId: string, all = false): void {
    const left = all ? 0 : (this.#sessions.get(sessionId) ?? 1) - 1;
    if (left <= 0) this.#sessions.delete(sessionId);
    else this.#sessions.set(sessionId, left);
    if (
      this.#sessions.size === 0 &&
      this.receivers.push.length === 0 &&
      !this.config.durable &&
      !this.#closed
    ) {
      this.host.onIdle(this);
    }
  }

  ack(delivery: Delivery, cumulative = false): AckOutcome {
    const partition = this.#partition(delivery);
    const entry = this.#current(partition, delivery);
    if (entry === undefined) return this.#rejected(partition, delivery);
    if (cumulative) {
      if (this.config.dispatch !== 'exclusive' && this.config.dispatch !== 'failover') {
        throw new InvalidArgumentError('cumulative ack needs an exclusive or failover consumer');
      }
      for (const other of [...partition.inFlight.values()]) {
        if (other.offset < delivery.offset) this.#settleAck(partition, other);
      }
    }
    this.#settleAck(partition, entry);
    this.#dispatchSoon();
    return 'acked';
  }

  /**
   * Dispatches once the current task's synchronous work is done: a protocol frame that acks
   * a thousand deliveries makes one dispatch pass for the credit they return, not a thousand.
   */
  #dispatchSoon(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(this.#queuedDispatch);
  }

  readonly #queuedDispatch = (): void => {
    this.#dispatchQueued = false;
    this.dispatch();
  };

  /** core2 (transactions): true while `delivery` is the current, unsettled attempt. */
  isCurrent(delivery: Delivery): boolean {
    const partition = this.#partition(delivery);
    return this.#current(partition, delivery) !== undefined;
  }

  /**
   * core2 (transaction recovery): acks an offset a committed transaction acked, after a
   * restart, when no delivery of it is in flight yet. Redelivery state for it is dropped.
   */
  ackRecovered(partitionIndex: number, offset: number): void {
    const partition = this.partitions[partitionIndex];
    if (partition === undefined || partition.tracker.isAcked(offset)) return;
    partition.deliveryCounts.delete(offset);
    partition.lastErrors.delete(offset);
    if (partition.tracker.ack(offset)) this.host.stateLog.recordAck(this.name, partition.index, offset);
    this.host.onAcked(this);
  }

  nack(delivery: Delivery, options: NackOptions = {}): AckOutcome {
    const partition = this.#partition(delivery);
    const entry = this.#current(partition, delivery);
    if (entry === undefined) return this.#rejected(partition, delivery);
    const delayMs = options.delayMs ?? backoffDelayMs(this.config, entry.deliveryCount);
    if (!Number.isSafeInteger(delayMs) || delayMs < 0) {
      throw new InvalidArgumentError('nack delayMs must be a non-negative integer');
    }
    this.metrics.nacked += 1;
    this.#takeInFlight(partition, entry);
    this.#requeue(partition, entry.offset, entry.deliveryCount, delayMs, options.reason);
    this.dispatch();
    return 'acked';
  }

  term(delivery: Delivery, reason?: string): AckOutcome {
    const partition = this.#partition(delivery);
    const entry = this.#current(partition, delivery);
    if (entry === undefined) return this.#rejected(partition, delivery);
    this.#takeInFlight(partition, entry);
    this.#deadLetter(partition, entry.offset, entry.deliveryCount, 'rejected', reason);
    this.dispatch();
    return 'acked';
  }

  /** New messages were appended to `partition` (for filtered consumers: matching ones were recorded). */
  onAppended(): void {
    if (this.receivers.size > 0) this.dispatch();
  }

  /** Retention removed everything below `offset` from the partition. */
  onTruncated(partitionIndex: number, offset: number): void {
    const partition = this.partitions[partitionIndex];
    if (partition === undefined) return;
    partition.forgetBelow(offset);
  }

  /**
   * A filtered consumer read past [from, to): every offset there except `kept` (ascending)
   * is another subject's message, never this consumer's to deliver. They are settled like
   * acks, so the ack floor, the holes and retention move on past them.
   */
  settleSkipped(
    partition: ConsumerPartition,
    from: number,
    to: number,
    kept: Iterable<number | StoredMessage>,
  ): void {
    let start = Math.max(from, partition.tracker.floor);
    let settled = false;
    const skip = (end: number): void => {
      if (end <= start) return;
      if (partition.tracker.ackRange(start, end) > 0) {
        this.host.stateLog.recordAckRange(this.name, partition.index, start, end);
        settled = true;
      }
    };
    for (const entry of kept) {
      const offset = typeof entry === 'number' ? entry : entry.offset;
      if (offset < start) continue;
      skip(offset);
      start = offset + 1;
    }
    skip(to);
    if (settled) this.host.onAcked(this);
  }

  /** An unacked offset vanished from the stream (retention): stop tracking it. */
  forgetUnacked(partition: ConsumerPartition, offset: number): void {
    partition.deliveryCounts.delete(offset);
    partition.lastErrors.delete(offset);
    partition.tracker.ack(offset);
    this.#unacked -= 1;
  }

  snapshot(): PartitionSnapshot[] {
    return this.partitions.map((partition) => ({
      partition: partition.index,
      floor: partition.tracker.floor,
      acked: partition.tracker.ranges(),
      counts: partition.deliveryCounts,
      errors: partition.lastErrors,
    }));
  }

  /** The consumer was deleted or the broker closes: detach everyone. */
  close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ackWaits.cancelAll();
    this.#delays.cancelAll();
    for (const receiver of [...this.receivers.push, ...this.receivers.pull]) {
      receiver.closed = true;
      receiver.onClosed(error);
    }
    this.receivers.push = [];
    this.receivers.pull = [];
  }

  /** Resolves once no partition has a log read in flight (what a no-wait fetch waits for). */
  whenReadsIdle(): Promise<void> {
    if (!this.#reading()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #reading(): boolean {
    return this.partitions.some((partition) => partition.reading || partition.loadingRedeliveries);
  }

  /** Delivers whatever the receivers have credit for. Safe to call at any time. */
  dispatch(): void {
    if (this.#closed) return;
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#dispatchAgain = false;
        this.#dispatchRound();
      } while (this.#dispatchAgain);
    } finally {
      this.#dispatching = false;
    }
    if (this.receivers.pull.length > 0) for (const waiter of [...this.receivers.pull]) waiter.settle?.();
    this.notifyReadSettled();
  }

  notifyReadSettled(): void {
    if (this.#idleWaiters.length > 0 && !this.#reading()) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #dispatchRound(): void {
    // Re-evaluated on every pass; a pause is counted once, when it starts.
    this.#pausedBefore = this.#paused;
    this.#paused = undefined;
    const count = this.partitions.length;
    let progress = true;
    while (progress && this.receivers.size > 0) {
      progress = false;
      for (let step = 0; step < count; step++) {
        const partition = this.partitions[(this.#partitionTurn + step) % count];
        if (partition === undefined) continue;
        if (this.#dispatchPartition(partition) > 0) progress = true;
        // Max ack pending holds for the whole consumer; holes only for their partition.
        if (this.#paused === 'ack_pending') return;
      }
      this.#partitionTurn = (this.#partitionTurn + 1) % count;
    }
    if (this.receivers.size === 0) this.#paused = this.#pausedBefore;
  }

  #dispatchPartition(partition: ConsumerPartition): number {
    const explicit = this.config.ackPolicy === 'explicit';
    let delivered = 0;
    let nowMs: number | undefined;
    while (delivered < 256) {
      const redelivery = partition.redeliverReady[0];
      if (
        redelivery === undefined &&
        partition.redeliverDue.length + (partition.loadingRedeliveries ? 1 : 0) > 0
      ) {
        // Ordered dispatch: a redelivery being loaded goes before anything newer.
        this.#reader.refill(partition);
        if (this.config.dispatch !== 'shared') return delivered;
      }
      const next = redelivery ?? partition.peekReadAhead();
      if (next === undefined) {
        this.#reader.refill(partition);
        return delivered;
      }
      if (redelivery === undefined && explicit && !this.#mayDeliverNew(partition, next.offset))
        return delivered;
      const expiresAtMs = next.message.expiresAtMs;
      if (expiresAtMs !== undefined && expiresAtMs <= this.host.clock.nowMs()) {
        this.#take(partition, redelivery !== undefined);
        if (redelivery === undefined) this.#unacked += 1;
        this.metrics.expiredMessages += 1;
        const count = partition.deliveryCounts.get(next.offset) ?? 0;
        // core2: a stream may ask for expired messages to be dropped instead of dead-lettered.
        if (this.host.config.deadLetterExpired === false) this.#markAcked(partition, next.offset);
        else this.#deadLetter(partition, next.offset, count, 'expired', undefined);
        continue;
      }
      const receiver = this.receivers.choose(next.message);
      if (receiver === undefined) return delivered;
      this.#take(partition, redelivery !== undefined);
      // One clock reading serves the deliveries of one pass (their ack-wait deadlines).
      nowMs ??= this.host.clock.nowMs();
      this.#deliver(partition, next, receiver, redelivery !== undefined, nowMs);
      delivered += 1;
    }
    return delivered;
  }

  #mayDeliverNew(partition: ConsumerPartition, offset: number): boolean {
    if (this.#unacked >= this.config.maxAckPending) {
      if (this.#pausedBefore !== 'ack_pending' && this.#paused !== 'ack_pending')
        this.metrics.pausedByAckPending += 1;
      this.#paused = 'ack_pending';
      return false;
    }
    // Holes only grow past the highest ack; delivering a hole (after a restart) closes one.
    if (offset >= partition.tracker.highestEnd && partition.tracker.holes >= this.host.ackHolesMax) {
      if (this.#pausedBefore !== 'ack_holes' && this.#paused !== 'ack_holes')
        this.metrics.pausedByAckHoles += 1;
      this.#paused = 'ack_holes';
      return false;
    }
    return true;
  }

  #take(partition: ConsumerPartition, redelivery: boolean): void {
    if (redelivery) partition.redeliverReady.shift();
    else partition.shiftReadAhead();
  }

  #deliver(
    partition: ConsumerPartition,
    stored: StoredMessage,
    receiver: Receiver,
    redelivery: boolean,
    nowMs: number,
  ): void {
    const previous = partition.deliveryCounts.get(stored.offset) ?? 0;
    const deliveryCount = previous + 1;
    const explicit = this.config.ackPolicy === 'explicit';
    receiver.credit -= 1;
    this.metrics.delivered += 1;
    if (previous > 0) this.metrics.redelivered += 1;
    if (explicit) {
      if (!redelivery) this.#unacked += 1;
      // First attempts keep their count in the in-flight entry only; repeated ones also in
      // deliveryCounts, which snapshots persist.
      if (previous > 0) partition.deliveryCounts.set(stored.offset, deliveryCount);
      const key = stored.message.key;
      const entry: InFlight = {
        dueMs: nowMs + this.config.ackWaitMs,
        partition: partition.index,
        offset: stored.offset,
        deliveryCount,
        receiver,
        key,
      };
      partition.inFlight.set(stored.offset, entry);
      this.receivers.noteDelivered(receiver, key);
      this.#ackWaits.push(entry);
    } else {
      // Ack policy none: at-most-once, settled as it leaves.
      partition.deliveryCounts.delete(stored.offset);
      partition.tracker.ack(stored.offset);
      this.host.stateLog.recordAck(this.name, partition.index, stored.offset);
      this.host.onAcked(this);
    }
    receiver.deliver({
      message: stored.message,
      stream: this.host.config.name,
      consumer: this.name,
      partition: partition.index,
      offset: stored.offset,
      deliveryCount,
      redelivered: previous > 0,
    });
  }

  #partition(delivery: Delivery): ConsumerPartition {
    const partition = this.partitions[delivery.partition];
    if (partition === undefined || delivery.consumer !== this.name) {
      throw new InvalidArgumentError(`delivery does not belong to consumer '${this.name}'`);
    }
    return partition;
  }

  #current(partition: ConsumerPartition, delivery: Delivery): InFlight | undefined {
    const entry = partition.inFlight.get(delivery.offset);
    return entry !== undefined && entry.deliveryCount === delivery.deliveryCount ? entry : undefined;
  }

  #rejected(partition: ConsumerPartition, delivery: Delivery): AckOutcome {
    if (partition.tracker.isAcked(delivery.offset)) {
      this.metrics.duplicateAcks += 1;
      return 'duplicate';
    }
    this.metrics.staleAcks += 1;
    return 'stale';
  }

  #takeInFlight(partition: ConsumerPartition, entry: InFlight): void {
    partition.inFlight.delete(entry.offset);
    this.#ackWaits.noteDead();
    this.receivers.noteSettled(entry.key);
    if (entry.receiver.creditOnAck && !entry.receiver.closed) entry.receiver.credit += 1;
  }

  #settleAck(partition: ConsumerPartition, entry: InFlight): void {
    this.#takeInFlight(partition, entry);
    this.#markAcked(partition, entry.offset);
    this.metrics.acked += 1;
  }

  #markAcked(partition: ConsumerPartition, offset: number): void {
    partition.deliveryCounts.delete(offset);
    partition.lastErrors.delete(offset);
    if (partition.tracker.ack(offset)) this.host.stateLog.recordAck(this.name, partition.index, offset);
    this.#unacked -= 1;
    this.host.onAcked(this);
  }

  /** A delivery attempt failed (nack, ack wait, detach): redeliver later, or dead-letter. */
  #requeue(
    partition: ConsumerPartition,
    offset: number,
    count: number,
    delayMs: number,
    error?: string,
  ): void {
    if (this.config.maxDeliver !== -1 && count >= this.config.maxDeliver) {
      this.#deadLetter(partition, offset, count, 'max_deliveries', error ?? partition.lastErrors.get(offset));
      return;
    }
    partition.deliveryCounts.set(offset, count);
    if (error !== undefined) partition.lastErrors.set(offset, error);
    this.host.stateLog.recordDeliveryFailure(this.name, partition.index, offset, count, error);
    if (delayMs > 0) {
      partition.parked.add(offset);
      this.#delays.push({
        dueMs: this.host.clock.nowMs() + delayMs,
        partition: partition.index,
        offset,
        deliveryCount: count,
      });
    } else {
      partition.addRedeliverDue(offset);
    }
  }

  #onAckWaitExpired(entry: TimerEntry): void {
    const partition = this.partitions[entry.partition];
    const inFlight = partition?.inFlight.get(entry.offset);
    if (partition === undefined || inFlight === undefined) return;
    this.metrics.expiredAckWaits += 1;
    this.#takeInFlight(partition, inFlight);
    this.#requeue(
      partition,
      entry.offset,
      inFlight.deliveryCount,
      backoffDelayMs(this.config, inFlight.deliveryCount),
    );
    this.dispatch();
  }

  #onDelayDue(entry: TimerEntry): void {
    const partition = this.partitions[entry.partition];
    if (partition === undefined || !partition.parked.delete(entry.offset)) return;
    partition.addRedeliverDue(entry.offset);
    this.dispatch();
  }

  #deadLetter(
    partition: ConsumerPartition,
    offset: number,
    deliveryCount: number,
    reason: DeadLetterReason,
    lastError: string | undefined,
  ): void {
    partition.parked.add(offset);
    const source = this.host.partitions[partition.index];
    const done = (): void => {
      if (!partition.parked.delete(offset)) return;
      this.metrics.deadLettered += 1;
      this.#markAcked(partition, offset);
      this.dispatch();
    };
    const failed = (): void => {
      // The dead-letter stream refused the message: keep it and try again after ack wait.
      this.metrics.deadLetterFailures += 1;
      this.#delays.push({
        dueMs: this.host.clock.nowMs() + this.config.ackWaitMs,
        partition: partition.index,
        offset,
        deliveryCount,
      });
    };
    if (source === undefined) return;
    source.readOne(offset).then((stored) => {
      if (stored === undefined) return done();
      const details = { consumer: this.name, partition: partition.index, deliveryCount, reason, lastError };
      return this.host.deadLetter(stored, details).then(done, failed);
    }, failed);
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeirError(ErrorCode.ConsumerNotFound, `consumer '${this.name}' was deleted`);
  }
}
