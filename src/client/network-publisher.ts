// The network client's publishing half: a backlog of publishes not yet sent, confirmed
// batches in flight by request id, and the byte accounting behind `drained()`.
//
// Every publish of one tick is flushed at the end of the tick as one PUBLISH frame per run
// of fire-and-forget or confirmed messages (at most NativeLimits.batchMessagesMax messages
// and half the broker's frame limit each), so batching under load is automatic. Confirmed
// runs are cut at NativeLimits.confirmedBatchMessagesMax, and a full one is written at once,
// while the caller goes on publishing: the broker answers a frame when its last message is
// fsynced, so smaller frames written early keep confirms flowing back during a burst. While the
// socket does not drain, publishes stay in the backlog. When a connection is lost, the
// confirmed batches without an answer go back to the front of the backlog in publishing
// order and are sent again on the next connection: a confirmed message is never lost.

import { setImmediate } from 'node:timers';
import { ErrorCode, WeirError } from '../common/errors.js';
import { NativeLimits } from '../common/limits.js';
import type { PublishAck } from '../core/api.js';
import type { PublishAckFrame, WirePublish } from '../protocols/native/codec/index.js';
import type { Connection } from './connection.js';
import type { Body } from './types.js';

interface PendingPublish {
  readonly message: WirePublish;
  readonly bytes: number;
  readonly confirm: boolean;
  readonly resolve: ((ack: PublishAck) => void) | undefined;
  readonly reject: ((error: WeirError) => void) | undefined;
  /** Order of publishing, so retried batches go back in their place. */
  readonly sequence: number;
}

/** Bytes encoded per flush before the publisher yields to let the socket write. */
const flushBytesMax = 1024 * 1024;
/** A rough per-message overhead for pending-bytes accounting. */
const messageOverheadBytes = 64;

function bodyBytes(body: Body): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.length;
}

export class NetworkPublisher {
  readonly #pendingBytesMax: number;
  readonly #highWaterBytes: number;
  #connection: Connection | undefined;
  #closed = false;
  #backlog: PendingPublish[] = [];
  #backlogHead = 0;
  readonly #inFlight = new Map<number, PendingPublish[]>();
  #pendingBytes = 0;
  #sequence = 0;
  /** Confirmed publishes at the end of the backlog, in a row: a full frame's worth is written at once. */
  #confirmedRun = 0;
  #drainWaiters: (() => void)[] = [];
  #flushScheduled = false;

  constructor(pendingBytesMax: number) {
    this.#pendingBytesMax = pendingBytesMax;
    this.#highWaterBytes = Math.max(64 * 1024, Math.floor(pendingBytesMax / 16));
  }

  /** Bytes of publishes not yet sent or not yet confirmed. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** True while the caller may publish more without waiting for `drained()`. */
  get belowHighWater(): boolean {
    return this.#backedUpBytes() < this.#highWaterBytes;
  }

  /**
   * Unsent and unconfirmed publishes, plus the socket's buffer while it is full (once it
   * drains, a 'drain' event rechecks; a socket that accepted the last write holds less than
   * its high-water mark, which does not count).
   */
  #backedUpBytes(): number {
    const connection = this.#connection;
    return (
      this.#pendingBytes + (connection !== undefined && !connection.writable ? connection.bufferedBytes : 0)
    );
  }

  /** A new connection is open: send what waits. */
  connected(connection: Connection): void {
    this.#connection = connection;
    this.#scheduleFlush();
  }

  /** The connection is gone: unanswered confirmed batches go back to the front of the backlog. */
  disconnected(): void {
    this.#connection = undefined;
    const retry = [...this.#inFlight.values()].flat().sort((a, b) => a.sequence - b.sequence);
    this.#inFlight.clear();
    if (retry.length > 0) {
      this.#backlog = [...retry, ...this.#backlog.slice(this.#backlogHead)];
      this.#backlogHead = 0;
    }
  }

  /** The socket drained after a full write. */
  drainedSocket(): void {
    this.#scheduleFlush();
    this.#checkDrained();
  }

  /** Fails everything pending with `error`; later publishes fail with WEIR_CLOSED. */
  close(error: WeirError): void {
    this.#closed = true;
    this.#connection = undefined;
    for (const entry of this.#backlog.slice(this.#backlogHead)) entry.reject?.(error);
    for (const batch of this.#inFlight.values()) for (const entry of batch) entry.reject?.(error);
    this.#backlog = [];
    this.#backlogHead = 0;
    this.#inFlight.clear();
    this.#pendingBytes = 0;
    this.#checkDrained();
  }

  publish(message: WirePublish): void {
    this.#enqueue(message, false, undefined, undefined);
  }

  publishConfirmed(message: WirePublish): Promise<PublishAck> {
    return new Promise((resolve, reject) => this.publishConfirmedThen(message, resolve, reject));
  }

  /** As `publishConfirmed`, answered by callback: no promise per message for the idempotent producer. */
  publishConfirmedThen(
    message: WirePublish,
    resolve: (ack: PublishAck) => void,
    reject: (error: WeirError) => void,
  ): void {
    try {
      this.#enqueue(message, true, resolve, reject);
    } catch (error) {
      reject(error as WeirError);
    }
  }

  /** Resolves when unsent and unconfirmed publishes are below `bytes` (default: half the high-water mark). */
  drained(bytes = this.#highWaterBytes / 2): Promise<void> {
    return this.#when(() => this.#backedUpBytes() <= bytes);
  }

  /** Resolves when every publish has been sent and every confirmed one answered. */
  settled(): Promise<void> {
    return this.#when(() => this.#pendingBytes === 0);
  }

  /** Sends now what would go at the end of the tick. */
  flush(): void {
    this.#flush();
  }

  #when(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition() || this.#closed) resolve();
        else this.#drainWaiters.push(check);
      };
      check();
    });
  }

  #enqueue(
    message: WirePublish,
    confirm: boolean,
    resolve: ((ack: PublishAck) => void) | undefined,
    reject: ((error: WeirError) => void) | undefined,
  ): void {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'the client is closed');
    const bytes = bodyBytes(message.body) + message.subject.length + messageOverheadBytes;
    if (this.#pendingBytes + bytes > this.#pendingBytesMax) {
      throw new WeirError(
        ErrorCode.LimitExceeded,
        `${this.#pendingBytes} bytes of publishes are pending (limit ${this.#pendingBytesMax}): await drained()`,
      );
    }
    this.#pendingBytes += bytes;
    this.#backlog.push({ message, bytes, confirm, resolve, reject, sequence: this.#sequence++ });
    this.#confirmedRun = confirm ? this.#confirmedRun + 1 : 0;
    if (this.#confirmedRun >= NativeLimits.confirmedBatchMessagesMax) this.#flushNow();
    else this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    this.#flushNow();
  };

  #flushNow(): void {
    this.#confirmedRun = 0;
    const connection = this.#connection;
    if (connection === undefined || !connection.writable) return;
    const frameBudgetBytes = connection.peerFrameBytesMax / 2;
    while (this.#backlogHead < this.#backlog.length) {
      if (connection.bufferedBytes >= flushBytesMax) {
        if (connection.writable) this.#scheduleFlush();
        break;
      }
      const first = this.#backlog[this.#backlogHead] as PendingPublish;
      const run: PendingPublish[] = [];
      let bytes = 0;
      const runMessagesMax = first.confirm
        ? NativeLimits.confirmedBatchMessagesMax
        : NativeLimits.batchMessagesMax;
      while (this.#backlogHead < this.#backlog.length && run.length < runMessagesMax) {
        const entry = this.#backlog[this.#backlogHead] as PendingPublish;
        if (entry.confirm !== first.confirm) break;
        if (run.length > 0 && bytes + entry.bytes > frameBudgetBytes) break;
        run.push(entry);
        bytes += entry.bytes;
        this.#backlogHead++;
      }
      const messages = run.map((entry) => entry.message);
      if (!first.confirm) {
        connection.send({ kind: 'publish', requestId: 0, confirm: false, messages });
        this.#pendingBytes -= bytes;
        continue;
      }
      const requestId = connection.newRequestId();
      this.#inFlight.set(requestId, run);
      connection.request({ kind: 'publish', requestId, confirm: true, messages }, undefined).then(
        (answer) => this.#onPublishAck(requestId, answer as PublishAckFrame),
        (error: WeirError) => {
          // A lost connection moved the batch back to the backlog; any other error fails it.
          const batch = this.#inFlight.get(requestId);
          if (batch === undefined || connection.closed) return;
          this.#inFlight.delete(requestId);
          for (const entry of batch) {
            this.#pendingBytes -= entry.bytes;
            entry.reject?.(error);
          }
          this.#checkDrained();
        },
      );
    }
    // This flush runs at the end of a tick already: write now, not a turn of the loop later.
    connection.write();
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog = [];
      this.#backlogHead = 0;
    } else if (this.#backlogHead > 4096) {
      this.#backlog = this.#backlog.slice(this.#backlogHead);
      this.#backlogHead = 0;
    }
    this.#checkDrained();
  }

  #onPublishAck(requestId: number, answer: PublishAckFrame): void {
    const batch = this.#inFlight.get(requestId);
    if (batch === undefined) return;
    this.#inFlight.delete(requestId);
    batch.forEach((entry, index) => {
      this.#pendingBytes -= entry.bytes;
      const result = answer.results[index];
      if (result === undefined) {
        entry.reject?.(new WeirError(ErrorCode.ProtocolError, 'PUBLISH_ACK has fewer results than messages'));
      } else if (result.ok) {
        entry.resolve?.({
          stream: result.stream,
          partition: result.partition,
          offset: result.offset,
          duplicate: result.duplicate,
        });
      } else {
        entry.reject?.(new WeirError(result.code as ErrorCode, result.message));
      }
    });
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length === 0) return;
    for (const check of this.#drainWaiters.splice(0)) check();
  }
}
