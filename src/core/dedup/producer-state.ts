// Idempotent producers, per stream partition (DESIGN.md §1, exactly-once on the producer
// side). A producer publishes with its id, epoch and a sequence that counts its messages to
// this partition from 0. The table remembers, per producer, its epoch, the last sequence
// stored and the offsets of the last few, so that:
//
// - the next sequence (last + 1) is new: it is stored;
// - a sequence already stored and among the last `recentSequences` is a retry: confirmed
//   with its original offset, not stored again;
// - an older stored sequence is a retry too: confirmed as a duplicate with offset -1 (its
//   offset is no longer remembered), not stored again;
// - a gap (a sequence beyond last + 1) means lost messages: WEIR_INVALID_ARGUMENT, nothing stored;
// - an epoch older than the producer's current one is a fenced (zombie) instance:
//   WEIR_PRODUCER_FENCED. A newer epoch starts over at any sequence.
//
// The table is rebuilt on open from the producer fields of the partition's record batches
// (a producer's run of consecutive messages is one batch: producerId, epoch, baseSequence),
// so it survives restarts and kill -9 exactly as the messages do. Memory is bounded by
// Limits.producersPerPartitionMax: beyond it the producer idle longest is forgotten (its
// next retry would be stored again; a producer idle that long is not retrying).

import { assert } from '../../common/assert.js';
import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';
import type { RecordBatch } from '../../storage/log.js';

/** What a publisher sends to be deduplicated. */
export interface ProducerStamp {
  readonly id: bigint;
  readonly epoch: number;
  readonly sequence: number;
}

/** One producer in a snapshot: id (decimal), epoch, last sequence, recent offsets (-1 unknown). */
export type ProducerSnapshotEntry = [string, number, number, number[]];

/** Sequences remembered with their offsets, per producer (as Kafka keeps five batches). */
export const recentSequences = 8;

interface ProducerEntry {
  epoch: number;
  /** The last sequence stored, or -1. */
  lastSequence: number;
  /** Offsets of the last `recentSequences` sequences, by sequence modulo the ring size. */
  readonly offsets: number[];
  /** Sequences accepted but not yet stored (queued for append), with their waiters. */
  pending: number;
}

export type ProducerCheck =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate'; readonly offset: number }
  /** A retry of a sequence still being appended: the caller waits for the original's offset. */
  | { readonly kind: 'in_flight' };

export function checkStamp(stamp: ProducerStamp): void {
  if (typeof stamp.id !== 'bigint' || stamp.id < 0n || stamp.id > 0x7fff_ffff_ffff_ffffn) {
    throw new InvalidArgumentError('producer id must be a non-negative 64-bit bigint');
  }
  if (!Number.isInteger(stamp.epoch) || stamp.epoch < 0 || stamp.epoch > 0x7fff) {
    throw new InvalidArgumentError('producer epoch must be an integer from 0 to 32767');
  }
  if (!Number.isInteger(stamp.sequence) || stamp.sequence < 0 || stamp.sequence > 0x7fff_ffff) {
    throw new InvalidArgumentError('producer sequence must be an integer from 0 to 2^31-1');
  }
}

export class ProducerStateTable {
  /** Insertion order is recency order: a touched producer is moved to the end. */
  readonly #producers = new Map<bigint, ProducerEntry>();
  /** The entry last moved to the end of #producers (the most recently used), and its id. */
  #mostRecent: ProducerEntry | undefined;
  #mostRecentId: bigint | undefined;

  get size(): number {
    return this.#producers.size;
  }

  /**
   * Classifies a stamped publish; a `new` one is reserved (the next check of the same
   * sequence says `in_flight`) until `stored` or `failed` is called for it.
   */
  check(stamp: ProducerStamp): ProducerCheck {
    const entry = this.#producers.get(stamp.id);
    if (entry === undefined || stamp.epoch > entry.epoch) {
      this.#touch(stamp.id, {
        epoch: stamp.epoch,
        lastSequence: stamp.sequence - 1,
        offsets: [],
        pending: 1,
      });
      return { kind: 'new' };
    }
    if (stamp.epoch < entry.epoch) {
      throw new WeirError(
        ErrorCode.ProducerFenced,
        `producer ${stamp.id} epoch ${stamp.epoch} is fenced: epoch ${entry.epoch} has taken over`,
      );
    }
    const next = entry.lastSequence + entry.pending + 1;
    if (stamp.sequence === next) {
      entry.pending += 1;
      this.#touch(stamp.id, entry);
      return { kind: 'new' };
    }
    if (stamp.sequence > next) {
      throw new InvalidArgumentError(
        `producer ${stamp.id} sequence ${stamp.sequence} skips ahead: expected ${next}`,
      );
    }
    if (stamp.sequence > entry.lastSequence) return { kind: 'in_flight' };
    if (entry.lastSequence - stamp.sequence < recentSequences) {
      const offset = entry.offsets[stamp.sequence % recentSequences];
      if (offset !== undefined && offset >= 0) return { kind: 'duplicate', offset };
    }
    // Sequences are stored in order without gaps, so one at or below the last stored was
    // stored: a retry of it is confirmed, with offset -1 as its offset is no longer kept. A
    // client that pipelines many confirmed publishes retries them all after a reconnect.
    return { kind: 'duplicate', offset: -1 };
  }

  /** A reserved sequence was appended at `offset` (called in sequence order per producer). */
  stored(stamp: ProducerStamp, offset: number): void {
    const entry = this.#producers.get(stamp.id);
    if (entry === undefined || entry.epoch !== stamp.epoch) {
      // Evicted or superseded meanwhile: remember it afresh.
      this.apply(stamp.id, stamp.epoch, stamp.sequence, offset, 1);
      return;
    }
    assert(entry.pending > 0, 'a stored sequence was reserved');
    entry.pending -= 1;
    entry.lastSequence = Math.max(entry.lastSequence, stamp.sequence);
    entry.offsets[stamp.sequence % recentSequences] = offset;
  }

  /** A reserved sequence failed to append: the producer may send it again. */
  failed(stamp: ProducerStamp): void {
    const entry = this.#producers.get(stamp.id);
    if (entry === undefined || entry.epoch !== stamp.epoch) return;
    // Later reservations of the same run fail too (the append queue fails whole batches).
    entry.pending = Math.max(0, entry.pending - 1);
  }

  /** Rebuilds from a stored batch (recovery): `count` sequences from baseSequence at baseOffset. */
  apply(id: bigint, epoch: number, baseSequence: number, baseOffset: number, count: number): void {
    let entry = this.#producers.get(id);
    if (entry === undefined || epoch > entry.epoch) {
      entry = { epoch, lastSequence: -1, offsets: [], pending: 0 };
    } else if (epoch < entry.epoch) {
      return;
    }
    for (let index = 0; index < count; index++) {
      const sequence = baseSequence + index;
      entry.offsets[sequence % recentSequences] = baseOffset + index;
    }
    entry.lastSequence = Math.max(entry.lastSequence, baseSequence + count - 1);
    this.#touch(id, entry);
  }

  /** The last sequence stored for this producer and epoch, or -1. */
  lastSequence(id: bigint, epoch: number): number {
    const entry = this.#producers.get(id);
    return entry === undefined || entry.epoch !== epoch ? -1 : entry.lastSequence;
  }

  /** The table as plain data, for a snapshot (stream-dedup.ts). */
  export(): ProducerSnapshotEntry[] {
    const entries: ProducerSnapshotEntry[] = [];
    for (const [id, entry] of this.#producers) {
      entries.push([
        id.toString(),
        entry.epoch,
        entry.lastSequence,
        [...entry.offsets].map((offset) => offset ?? -1),
      ]);
    }
    return entries;
  }

  /** Loads a snapshot taken by `export` (before applying the batches stored after it). */
  restore(entries: readonly ProducerSnapshotEntry[]): void {
    for (const [id, epoch, lastSequence, offsets] of entries) {
      const restored: number[] = [];
      offsets.forEach((offset, index) => {
        if (offset >= 0) restored[index] = offset;
      });
      this.#touch(BigInt(id), { epoch, lastSequence, offsets: restored, pending: 0 });
    }
  }

  /** Recovery: applies every idempotent batch of a partition's log, in order. */
  applyBatch(batch: RecordBatch): void {
    if (batch.producerId < 0n || batch.baseSequence < 0) return;
    this.apply(
      batch.producerId,
      batch.producerEpoch,
      batch.baseSequence,
      batch.baseOffset,
      batch.recordCount,
    );
  }

  #touch(id: bigint, entry: ProducerEntry): void {
    // A producer publishing run after run is already the most recent: no reordering.
    if (entry === this.#mostRecent && id === this.#mostRecentId) return;
    this.#producers.delete(id);
    this.#producers.set(id, entry);
    this.#mostRecentId = id;
    this.#mostRecent = entry;
    if (this.#producers.size > Limits.producersPerPartitionMax) {
      for (const [oldest, candidate] of this.#producers) {
        if (candidate.pending > 0) continue;
        this.#producers.delete(oldest);
        if (candidate === this.#mostRecent) this.#mostRecent = undefined;
        break;
      }
    }
  }
}
