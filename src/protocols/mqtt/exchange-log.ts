// The open exchanges of persistent sessions, kept across restarts (MQTT 5.0 §4.4: a session
// holds QoS 2 messages half-way in both directions and QoS 1/2 messages sent and not yet
// acknowledged). Deliveries from durable consumers are kept by their consumers; this log
// keeps what the consumers cannot:
//
//   inbound   a QoS 2 PUBLISH stored and PUBREC sent, PUBREL awaited: a retransmission is
//             answered with PUBREC and not published again, PUBREL gets PUBCOMP
//   release   an outbound QoS 2 delivery that got PUBREC: PUBREL sent, PUBCOMP awaited; on
//             reconnect PUBREL is sent again, not the PUBLISH [MQTT-4.4.0-1]
//   retained  a retained message sent at subscribe with QoS 1/2, not yet acknowledged
//
// Storage (DESIGN.md §4: an ordinary stream and consumer, not a store of the adapter's own):
// the workqueue stream `mqtt-exchanges` captures `$MQTT.exchanges.>`; each open exchange is
// one message, its body the record as JSON, and ending the exchange acks that message on
// the durable consumer `open-exchanges`. The core deletes acked messages (workqueue
// retention) and compacts the consumer's ack state by snapshot, so the log holds the open
// exchanges plus what a segment still shares with them. An exchange left open for long (a
// client that never comes back before its session expires) would pin every segment after
// it; when the oldest open record lags the tail by `exchangeLogCompactRecords`, the old
// records are written again at the tail and their first copies acked. A crash in between
// leaves two copies of a record, which load() merges (records have a key).
//
// An inbound QoS 2 hold is written with its message, in one core transaction (transaction.ts:
// one batch in the broker's transaction log, re-applied after a crash): after a kill -9 the
// message and its record are both stored or neither is, so a re-send after a restart is
// either recognised (the record is there) or published for the first time (nothing is).
// Written one after the other, a kill in between left the message stored and the re-send,
// unrecognised, published again. A commit costs three fsyncs in turn (the transaction log,
// the streams, `applied`), so the holds are group-committed: one transaction, on the log's
// own session, takes the holds that arrived while earlier ones committed (up to
// MqttLimits.inboundHoldBatchMax and inboundHoldBatchBytesMax; inboundHoldCommitsMax commit at
// once, so one batch's fsyncs overlap the next one's). Its messages reach live
// subscribers from that session, so MQTT's No Local goes by the message's publisher
// (session.ts), not by the core session.
//
// Holding an exchange resolves once its record is durable; ending one does not wait. An
// ended exchange that comes back after a crash is harmless: a PUBREL nobody waits for gets
// PUBCOMP, a restored inbound packet id is dropped by a PUBLISH without DUP (a retransmission
// carries DUP [MQTT-3.3.1-1]) or by one whose message differs from the held one (the client
// had PUBCOMP and reused the id for a new message, whose own hold the crash lost, and sends
// that again with DUP: the record's fingerprint tells them apart), and a retained message
// sent again is marked DUP.

import { randomUUID } from 'node:crypto';
import { assert } from '../../common/assert.js';
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { Limits, MqttLimits } from '../../common/limits.js';
import type {
  Attachment,
  CoreSession,
  Delivery,
  PublishAck,
  PublishInput,
  Transaction,
} from '../../core/api.js';
import type { BrokerCore } from '../../core/broker.js';

export const exchangeStream = 'mqtt-exchanges';
/** The log's one consumer: an open exchange is an unacked message of it. */
const exchangeConsumer = 'open-exchanges';
const exchangePrefix = '$MQTT.exchanges.';
/** Ack wait of the log's consumer: its records are settled by the adapter, never redelivered on a timer. */
const ackWaitMs = 365 * 24 * 3600 * 1000;

/** Where a delivery came from, so a redelivery of it is recognised after a restart. */
export interface DeliveryOrigin {
  readonly stream: string;
  readonly consumer: string;
  readonly partition: number;
  readonly offset: number;
}

export type ExchangeRecord =
  | {
      readonly kind: 'inbound';
      readonly clientId: string;
      readonly packetId: number;
      /**
       * The held message's fingerprint (exchanges.ts, messageFingerprint): after a restart a
       * re-send is the held message only if it matches. Absent in records of older versions.
       */
      readonly fingerprint?: string;
    }
  | {
      readonly kind: 'release';
      readonly clientId: string;
      readonly packetId: number;
      readonly origin: DeliveryOrigin | undefined;
      /** For a retained message sent at subscribe: its record's key, ended by this one. */
      readonly retainedKey?: string;
    }
  | {
      readonly kind: 'retained';
      readonly clientId: string;
      /** The subscription's filter as the client gave it. */
      readonly filter: string;
      /** The retained message's subject and id: sent again only while it is still the retained one. */
      readonly subject: string;
      readonly messageId: string;
    };

/** An inbound hold waiting for its transaction. */
interface PendingHold {
  readonly record: ExchangeRecord;
  readonly message: PublishInput;
  /** The record's message id, by which it is found when its offset is not known at commit. */
  readonly id: string;
  /** With the record's offset, or undefined when committed but not yet appended. */
  resolve(offset: number | undefined): void;
  reject(error: unknown): void;
}

/** Holds that commit in one transaction (see the top of this file). */
interface HoldBatch {
  readonly holds: PendingHold[];
  bytes: number;
}

/** What a hold adds to a transaction besides its message body: headers, the record. */
const holdOverheadBytes = 512;

/** An open exchange in the log. */
export interface ExchangeHandle {
  readonly record: ExchangeRecord;
  /** The record's offset in the log (changes when compaction writes it again). */
  offset: number;
  released: boolean;
  /** Its message may have been sent already (it was, on this or an earlier run): resent with DUP. */
  sentBefore: boolean;
}

export function exchangeKey(record: ExchangeRecord): string {
  switch (record.kind) {
    case 'inbound':
    case 'release':
      return `${record.kind}\u0000${record.clientId}\u0000${record.packetId}`;
    case 'retained':
      return `retained\u0000${record.clientId}\u0000${record.filter}\u0000${record.subject}`;
  }
}

type LogCore = Pick<
  BrokerCore,
  'addStream' | 'listStreams' | 'addConsumer' | 'listConsumers' | 'consumerInfo'
>;

export class ExchangeLog {
  readonly #core: LogCore;
  readonly #session: () => CoreSession;
  /** Deliveries of the log's records, by offset: acking one ends its exchange. */
  readonly #deliveries = new Map<number, Delivery>();
  /** Offsets ended before their delivery arrived. */
  readonly #endedEarly = new Set<number>();
  /**
   * Holds whose transaction committed but whose records were not all appended when commit()
   * returned (a stream of the batch refused its message for now; the core appends it later),
   * by record message id: each gets its offset when its record is delivered.
   */
  readonly #unplaced = new Map<string, ExchangeHandle>();
  /** Open exchanges by offset, oldest first (for compaction). */
  readonly #open = new Map<number, ExchangeHandle>();
  #attachment: Attachment | undefined;
  #tailOffset = 0;
  #compaction: Promise<void> | undefined;
  readonly #compactRecords: number;
  /** The batch taking holds, full batches waiting their turn, and the commits under way. */
  #collecting: HoldBatch | undefined;
  readonly #ready: HoldBatch[] = [];
  readonly #commits = new Set<Promise<void>>();
  #pumpScheduled = false;

  constructor(
    core: LogCore,
    session: () => CoreSession,
    compactRecords: number = MqttLimits.exchangeLogCompactRecords,
  ) {
    this.#core = core;
    this.#session = session;
    this.#compactRecords = compactRecords;
  }

  /** Opens the log and returns the open exchanges (one handle per key), before any new one is held. */
  async load(): Promise<ExchangeHandle[]> {
    if (!this.#core.listStreams().some((info) => info.config.name === exchangeStream)) {
      await this.#core.addStream({
        name: exchangeStream,
        subjects: [`${exchangePrefix}>`],
        retention: 'workqueue',
      });
    }
    if (!this.#core.listConsumers(exchangeStream).some((info) => info.config.name === exchangeConsumer)) {
      await this.#core.addConsumer(exchangeStream, {
        name: exchangeConsumer,
        durable: true,
        deliverPolicy: { kind: 'all' },
        ackPolicy: 'explicit',
        ackWaitMs,
        maxDeliver: -1,
        maxAckPending: Limits.consumerAckPendingMax,
        dispatch: 'exclusive',
      });
    }
    const byKey = new Map<string, ExchangeHandle>();
    const session = this.#session();
    // The core's clock timers do not hold the process open; while loading at start nothing
    // else may, so this does until the log is read.
    const holdOpen = setInterval(() => undefined, 60_000);
    try {
      for (;;) {
        let batch = await session.fetch(exchangeStream, exchangeConsumer, {
          batch: Limits.fetchBatchMax,
          expiresMs: 0,
        });
        if (batch.length === 0) {
          if (this.#core.consumerInfo(exchangeStream, exchangeConsumer).pending === 0) break;
          batch = await session.fetch(exchangeStream, exchangeConsumer, {
            batch: Limits.fetchBatchMax,
            expiresMs: 50,
          });
        }
        for (const delivery of batch) {
          const record = JSON.parse(delivery.message.body.toString('utf8')) as ExchangeRecord;
          const handle: ExchangeHandle = {
            record,
            offset: delivery.offset,
            released: false,
            sentBefore: true,
          };
          this.#deliveries.set(delivery.offset, delivery);
          this.#tailOffset = Math.max(this.#tailOffset, delivery.offset);
          const key = exchangeKey(record);
          const earlier = byKey.get(key);
          // Two copies of one record: compaction was cut short. Keep the later one.
          if (earlier !== undefined) this.#ackOffset(earlier.offset);
          byKey.set(key, handle);
          this.#open.set(delivery.offset, handle);
        }
      }
    } finally {
      clearInterval(holdOpen);
    }
    this.#attachment = session.attach(exchangeStream, exchangeConsumer, {
      credit: Limits.attachCreditMax,
      onDelivery: (delivery) => this.#onDelivery(delivery),
    });
    return [...byKey.values()];
  }

  #onDelivery(delivery: Delivery): void {
    if (this.#unplaced.size > 0) {
      const handle = this.#unplaced.get(delivery.message.id);
      if (handle !== undefined) {
        this.#place(delivery.message.id, handle, delivery);
        return;
      }
    }
    if (this.#endedEarly.delete(delivery.offset)) {
      this.#session().ack(delivery);
      return;
    }
    this.#deliveries.set(delivery.offset, delivery);
  }

  /**
   * Writes an exchange's record, and with `message` that message too, both in one core
   * transaction; resolves once durable. A message no stream captures is refused
   * (WEIR_NO_STREAM) with nothing written.
   */
  async hold(record: ExchangeRecord, message?: PublishInput): Promise<ExchangeHandle> {
    if (message === undefined) {
      const offset = await this.#append(record);
      const handle: ExchangeHandle = { record, offset, released: false, sentBefore: false };
      this.#open.set(offset, handle);
      return handle;
    }
    const id = randomUUID();
    const offset = await this.#appendWith(record, message, id);
    const handle: ExchangeHandle = { record, offset: offset ?? -1, released: false, sentBefore: false };
    if (offset !== undefined) {
      this.#open.set(offset, handle);
      return handle;
    }
    // Committed, so durable (the transaction log re-applies it after a crash), but the record's
    // offset is not known yet: it is found by its message id once delivered, maybe already.
    for (const delivery of this.#deliveries.values()) {
      if (delivery.message.id === id) {
        this.#place(id, handle, delivery);
        return handle;
      }
    }
    this.#unplaced.set(id, handle);
    return handle;
  }

  /** An unplaced hold's record has arrived: it is open at that offset, or acked if ended meanwhile. */
  #place(id: string, handle: ExchangeHandle, delivery: Delivery): void {
    this.#unplaced.delete(id);
    handle.offset = delivery.offset;
    this.#tailOffset = Math.max(this.#tailOffset, delivery.offset);
    this.#deliveries.set(delivery.offset, delivery);
    if (handle.released) {
      this.#ackOffset(delivery.offset);
      return;
    }
    this.#open.set(delivery.offset, handle);
  }

  #recordInput(record: ExchangeRecord, id?: string): PublishInput {
    return {
      subject: `${exchangePrefix}${record.kind}`,
      body: JSON.stringify(record),
      ...(id !== undefined ? { id } : {}),
    };
  }

  async #append(record: ExchangeRecord): Promise<number> {
    const ack = await this.#session().publishConfirmed(this.#recordInput(record));
    this.#tailOffset = Math.max(this.#tailOffset, ack.offset);
    return ack.offset;
  }

  /** Adds the message and its record to a batch; resolves with the record's offset once committed. */
  #appendWith(record: ExchangeRecord, message: PublishInput, id: string): Promise<number | undefined> {
    return new Promise<number | undefined>((resolve, reject) => {
      const bytes = Buffer.byteLength(message.body) + holdOverheadBytes;
      let batch = this.#collecting;
      if (
        batch !== undefined &&
        (batch.holds.length >= MqttLimits.inboundHoldBatchMax ||
          batch.bytes + bytes > MqttLimits.inboundHoldBatchBytesMax)
      ) {
        this.#ready.push(batch);
        batch = undefined;
      }
      if (batch === undefined) {
        batch = { holds: [], bytes: 0 };
        this.#collecting = batch;
      }
      batch.holds.push({ record, message, id, resolve, reject });
      batch.bytes += bytes;
      if (!this.#pumpScheduled) {
        // Holds from the same turn (one socket read holds many PUBLISH packets) share a commit.
        this.#pumpScheduled = true;
        queueMicrotask(() => {
          this.#pumpScheduled = false;
          this.#pump();
        });
      }
    });
  }

  /** Starts commits, full batches first, while fewer than inboundHoldCommitsMax are under way. */
  #pump(): void {
    while (this.#commits.size < MqttLimits.inboundHoldCommitsMax) {
      let batch = this.#ready.shift();
      if (batch === undefined && this.#collecting !== undefined) {
        batch = this.#collecting;
        this.#collecting = undefined;
      }
      if (batch === undefined) return;
      const commit = this.#commit(batch);
      this.#commits.add(commit);
      void commit.finally(() => {
        this.#commits.delete(commit);
        this.#pump();
      });
    }
  }

  /** One transaction: each hold's message, then its record. A message the core refuses fails its hold only. */
  async #commit(batch: HoldBatch): Promise<void> {
    let transaction: Transaction;
    try {
      transaction = this.#session().beginTransaction();
    } catch (error) {
      for (const hold of batch.holds) hold.reject(error);
      return;
    }
    const included: PendingHold[] = [];
    for (const hold of batch.holds) {
      try {
        transaction.publish(hold.message);
      } catch (error) {
        hold.reject(error); // no stream captures it, or it is too large: nothing of it is written
        continue;
      }
      try {
        transaction.publish(this.#recordInput(hold.record, hold.id));
      } catch (error) {
        // Its message is in without its record: the whole batch must go.
        await transaction.abort();
        for (const other of batch.holds) other.reject(error);
        return;
      }
      included.push(hold);
    }
    let acks: PublishAck[];
    try {
      acks = await transaction.commit();
    } catch (error) {
      // Past the commit point, a stream that refused its messages for now gets them later
      // (transaction.ts): every hold is durable, and refusing any would have its client send
      // it again, to be published twice. The records' offsets are learnt as they arrive.
      if (transaction.state === 'committed') for (const hold of included) hold.resolve(undefined);
      else for (const hold of included) hold.reject(error);
      return;
    }
    assert(acks.length === included.length * 2, 'a committed batch stored every message and record');
    included.forEach((hold, index) => {
      const ack = acks[index * 2 + 1];
      assert(ack !== undefined && ack.stream === exchangeStream, 'each message is followed by its record');
      this.#tailOffset = Math.max(this.#tailOffset, ack.offset);
      hold.resolve(ack.offset);
    });
  }

  /** Ends an exchange: its record is acked (and deleted by the core in time). */
  end(handle: ExchangeHandle): void {
    if (handle.released) return;
    handle.released = true;
    if (handle.offset < 0) return; // unplaced: acked when its record arrives (#place)
    this.#open.delete(handle.offset);
    this.#ackOffset(handle.offset);
    this.#maybeCompact();
  }

  #ackOffset(offset: number): void {
    const delivery = this.#deliveries.get(offset);
    if (delivery === undefined) {
      this.#endedEarly.add(offset);
      return;
    }
    this.#deliveries.delete(offset);
    try {
      this.#session().ack(delivery);
    } catch (error) {
      // The log's consumer is gone only when the broker is closing.
      if (!isWeirError(error, ErrorCode.Closed) && !isWeirError(error, ErrorCode.ConsumerNotFound))
        throw error;
    }
  }

  /** Writes the records that pin old segments again at the tail, then acks their old copies. */
  #maybeCompact(): void {
    if (this.#compaction !== undefined) return;
    const oldest = this.#open.keys().next();
    if (oldest.done === true || this.#tailOffset - oldest.value < this.#compactRecords) return;
    const below = this.#tailOffset - this.#compactRecords / 2;
    const moved = [...this.#open.values()].filter((handle) => handle.offset < below);
    this.#compaction = (async () => {
      try {
        for (const handle of moved) {
          if (handle.released) continue;
          const offset = await this.#append(handle.record);
          if (handle.released) {
            this.#ackOffset(offset);
            continue;
          }
          this.#open.delete(handle.offset);
          this.#ackOffset(handle.offset);
          handle.offset = offset;
          this.#open.set(offset, handle);
        }
      } catch {
        // Closing, or the log refused a write: the old copies stay, and the next end tries again.
      } finally {
        this.#compaction = undefined;
      }
    })();
  }

  /** Resolves when no compaction is under way. */
  async settled(): Promise<void> {
    await this.#compaction;
  }

  async close(): Promise<void> {
    await this.#compaction;
    while (this.#commits.size > 0 || this.#pumpScheduled) {
      await Promise.all([...this.#commits, Promise.resolve()]);
    }
    this.#attachment?.close();
    this.#attachment = undefined;
  }
}
