// Settling messages of the network client: acks, nacks and terms of one tick go out as one
// frame per consumer and kind; an ack whose outcome the caller awaits goes out on its own.
// Settles for messages of a lost connection are not sent (the broker redelivers them).

import { setImmediate } from 'node:timers';
import type { AckOutcome } from '../core/api.js';
import type { AckEntry, NackEntry, SettleResultFrame, TermEntry } from '../protocols/native/codec/index.js';
import type { Connection } from './connection.js';
import type { NetworkMessage, SettleKind } from './network-message.js';

interface SettleBatch {
  readonly stream: string;
  readonly consumer: string;
  readonly acks: AckEntry[];
  readonly nacks: NackEntry[];
  readonly terms: TermEntry[];
}

/** What the batcher needs of its client: the current connection and its epoch. */
export interface SettleLink {
  connection(): Connection | undefined;
  epoch(): number;
}

export class SettleBatcher {
  readonly #link: SettleLink;
  #settles = new Map<string, SettleBatch>();
  #scheduled = false;

  constructor(link: SettleLink) {
    this.#link = link;
  }

  /** Queues a settle for the next flush (one tick later). */
  settle(
    message: NetworkMessage,
    kind: SettleKind,
    options: { delayMs?: number; reason?: string } | undefined,
  ): void {
    // A message of a lost connection is redelivered by the broker; settling it would be stale.
    if (message.connectionEpoch !== this.#link.epoch() || this.#link.connection() === undefined) return;
    const stream = message.stream as string;
    const consumer = message.consumer as string;
    const key = `${stream}\u0000${consumer}`;
    let batch = this.#settles.get(key);
    if (batch === undefined) {
      batch = { stream, consumer, acks: [], nacks: [], terms: [] };
      this.#settles.set(key, batch);
    }
    const entry = {
      partition: message.partition as number,
      offset: message.offset as number,
      deliveryCount: message.deliveryCount,
    };
    if (kind === 'ack') batch.acks.push(entry);
    else if (kind === 'nack') {
      batch.nacks.push({
        ...entry,
        ...(options?.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
        ...(options?.reason !== undefined ? { reason: options.reason } : {}),
      });
    } else {
      batch.terms.push(options?.reason !== undefined ? { ...entry, reason: options.reason } : entry);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** An ack whose outcome the caller awaits: `stale` when the broker had already redelivered it. */
  async settleConfirmed(message: NetworkMessage): Promise<AckOutcome> {
    const connection = this.#link.connection();
    if (message.connectionEpoch !== this.#link.epoch() || connection === undefined) return 'stale';
    const answer = await connection.request({
      kind: 'ack',
      requestId: 0,
      cumulative: false,
      stream: message.stream as string,
      consumer: message.consumer as string,
      entries: [
        {
          partition: message.partition as number,
          offset: message.offset as number,
          deliveryCount: message.deliveryCount,
        },
      ],
    });
    return (answer as SettleResultFrame).outcomes[0] ?? 'stale';
  }

  /** Forgets queued settles (their connection is lost). */
  clear(): void {
    this.#settles.clear();
  }

  /** Sends the queued settles now. */
  readonly flush = (): void => {
    this.#scheduled = false;
    const connection = this.#link.connection();
    const batches = this.#settles;
    this.#settles = new Map();
    if (connection === undefined) return;
    for (const batch of batches.values()) {
      const { stream, consumer } = batch;
      if (batch.acks.length > 0) {
        connection.send({
          kind: 'ack',
          requestId: 0,
          cumulative: false,
          stream,
          consumer,
          entries: batch.acks,
        });
      }
      if (batch.nacks.length > 0)
        connection.send({ kind: 'nack', requestId: 0, stream, consumer, entries: batch.nacks });
      if (batch.terms.length > 0)
        connection.send({ kind: 'term', requestId: 0, stream, consumer, entries: batch.terms });
    }
  };
}
