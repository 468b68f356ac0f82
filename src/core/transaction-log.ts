// The broker's transaction log: the commit point of every transaction (transaction.ts).
//
// A commit is ONE record batch, so it is on disk whole or not at all (record-batch.ts):
//
//   record 0      value: JSON {"kind":"commit","id":"<decimal bigint>","acks":[[stream,
//                 consumer, partition, offset], …],"messages":<count>}
//   records 1…n   key: JSON [stream, partition, sequence]; value: the encoded message
//                 (message-codec.ts)
//
// and once the commit has been applied (messages appended to their partitions, acks durable
// in the consumer-state logs) a one-record batch {"kind":"applied","id":"…"} follows. On
// open, every commit without its `applied` record is returned for re-application, which is
// idempotent (transaction.ts). Segments below the oldest unapplied commit are deleted.

import { Offset } from '../common/branded.js';
import { CorruptLogError } from '../common/errors.js';
import type { Log } from '../storage/log.js';
import type { Message } from './api.js';
import { decodeMessage, encodeMessage } from './message-codec.js';

export interface AckRef {
  readonly stream: string;
  readonly consumer: string;
  readonly partition: number;
  readonly offset: number;
}

export interface TransactionMessage {
  readonly stream: string;
  readonly partition: number;
  /** The message's place in this transaction's run on its partition, from 0. */
  readonly sequence: number;
  readonly message: Message;
}

export interface CommittedTransaction {
  readonly id: bigint;
  readonly acks: readonly AckRef[];
  readonly messages: readonly TransactionMessage[];
}

interface CommitHeader {
  readonly kind: 'commit';
  readonly id: string;
  readonly acks: [string, string, number, number][];
  readonly messages: number;
}

interface AppliedRecord {
  readonly kind: 'applied';
  readonly id: string;
}

const readBytes = 16 * 1024 * 1024;

export class TransactionLog {
  readonly #log: Log;
  /** Offsets of commits not yet applied, by transaction id. */
  readonly #unapplied = new Map<bigint, number>();

  private constructor(log: Log) {
    this.#log = log;
  }

  /** Opens the log and returns the commits that still need applying, in commit order. */
  static async open(log: Log): Promise<{ transactions: TransactionLog; unapplied: CommittedTransaction[] }> {
    const transactions = new TransactionLog(log);
    const pending = new Map<bigint, CommittedTransaction>();
    let from = log.startOffset as number;
    while (from < log.nextOffset) {
      const batches = await log.read(Offset(from), readBytes);
      if (batches.length === 0) break;
      for (const batch of batches) {
        from = batch.lastOffset + 1;
        const records = [...batch.records()];
        const first = records[0];
        if (first === undefined) continue;
        const header = parseRecord(first.value, log);
        if (header.kind === 'applied') {
          pending.delete(BigInt(header.id));
          transactions.#unapplied.delete(BigInt(header.id));
          continue;
        }
        const messages: TransactionMessage[] = records.slice(1).map((record) => {
          const [stream, partition, sequence] = JSON.parse(
            (record.key ?? Buffer.alloc(0)).toString('utf8'),
          ) as [string, number, number];
          return { stream, partition, sequence, message: decodeMessage(Buffer.from(record.value)) };
        });
        const id = BigInt(header.id);
        pending.set(id, {
          id,
          acks: header.acks.map(([stream, consumer, partition, offset]) => ({
            stream,
            consumer,
            partition,
            offset,
          })),
          messages,
        });
        transactions.#unapplied.set(id, batch.baseOffset);
      }
    }
    return { transactions, unapplied: [...pending.values()] };
  }

  /** Writes a commit; the transaction is committed once this resolves. */
  async appendCommit(transaction: CommittedTransaction): Promise<void> {
    const header: CommitHeader = {
      kind: 'commit',
      id: transaction.id.toString(),
      acks: transaction.acks.map((ack) => [ack.stream, ack.consumer, ack.partition, ack.offset]),
      messages: transaction.messages.length,
    };
    const result = await this.#log.append({
      records: [
        { value: Buffer.from(JSON.stringify(header)) },
        ...transaction.messages.map((entry) => ({
          key: Buffer.from(JSON.stringify([entry.stream, entry.partition, entry.sequence])),
          value: encodeMessage(entry.message),
        })),
      ],
    });
    this.#unapplied.set(transaction.id, result.baseOffset);
  }

  /**
   * Records that a commit is applied, and reclaims sealed segments nothing unapplied needs
   * (never the active one: retiring it would roll the log, new files and a directory fsync,
   * on every commit).
   */
  async appendApplied(id: bigint): Promise<void> {
    const record: AppliedRecord = { kind: 'applied', id: id.toString() };
    await this.#log.append({ records: [{ value: Buffer.from(JSON.stringify(record)) }] });
    this.#unapplied.delete(id);
    let oldest = this.#log.activeSegmentBaseOffset as number;
    for (const offset of this.#unapplied.values()) oldest = Math.min(oldest, offset);
    await this.#log.deleteBefore(Offset(oldest));
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}

function parseRecord(value: Buffer, log: Log): CommitHeader | AppliedRecord {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as CommitHeader | AppliedRecord;
    if (parsed.kind === 'commit' || parsed.kind === 'applied') return parsed;
  } catch {
    // Reported below.
  }
  throw new CorruptLogError(
    'transactions',
    log.startOffset,
    'a transaction record that is neither commit nor applied',
  );
}
