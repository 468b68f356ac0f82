// Consumer state of one stream, kept in its own small log (DESIGN.md §3) and replayed at
// restart instead of rebuilding anything from the data.
//
// Each record's value is UTF-8 JSON: an array of entries, each one of
//   {"t":"a","c":consumer,"p":partition,"r":ranges}          acks
//   {"t":"n","c":consumer,"p":partition,"o":offset,"d":count,"e"?:error}
//                                                             a failed delivery attempt
//   {"t":"s","c":consumer,"p":partition,"f":floor,"r":ranges,"n":[[offset,count,error?]…]}
//                                                             snapshot: replaces that state
//   {"t":"x","c":consumer}                                    consumer deleted
// `ranges` are acked runs, delta-coded: [start, length, gap, length, gap, length…] where each
// gap counts from the end of the previous run. Entries apply in log order.
//
// Acks are buffered and coalesced into runs, and one record per turn of the event loop holds
// everything buffered. Once the log has grown by `consumerStateSnapshotBytes` since the last
// snapshot, every consumer's state is written as snapshot records (one per consumer
// partition, so each is applied whole) and the segments before them are deleted.

import { assert } from '../common/assert.js';
import { Offset } from '../common/branded.js';
import { Limits } from '../common/limits.js';
import type { Log } from '../storage/log.js';
import type { AckedRange } from './ack-tracker.js';

export interface PartitionState {
  floor: number;
  acked: AckedRange[];
  /** offset → [deliveryCount, lastError] */
  counts: Map<number, [number, string | undefined]>;
}

export type ConsumerState = Map<number, PartitionState>;

type Entry =
  | { t: 'a'; c: string; p: number; r: number[] }
  | { t: 'n'; c: string; p: number; o: number; d: number; e?: string }
  | { t: 's'; c: string; p: number; f: number; r: number[]; n: [number, number, string?][] }
  | { t: 'x'; c: string };

export interface PartitionSnapshot {
  readonly partition: number;
  readonly floor: number;
  readonly acked: readonly AckedRange[];
  readonly counts: ReadonlyMap<number, number>;
  readonly errors: ReadonlyMap<number, string>;
}

export type SnapshotProvider = () => { consumer: string; partitions: PartitionSnapshot[] }[];

export class ConsumerStateLog {
  readonly #log: Log;
  #entries: Entry[] = [];
  /** Open ack runs per consumer partition, coalesced until the next flush. */
  #ackRuns = new Map<string, { consumer: string; partition: number; runs: number[] }>();
  #flushScheduled = false;
  #writing: Promise<void> = Promise.resolve();
  #bytesSinceSnapshot = 0;
  #snapshotProvider: SnapshotProvider | undefined;
  #closed = false;

  private constructor(log: Log) {
    this.#log = log;
  }

  /** Opens the log and replays it into each consumer's state. */
  static async open(log: Log): Promise<{ stateLog: ConsumerStateLog; states: Map<string, ConsumerState> }> {
    const states = new Map<string, ConsumerState>();
    let offset: number = log.startOffset;
    while (offset < log.nextOffset) {
      const batches = await log.read(Offset(offset), Limits.consumerReadBytesMax);
      if (batches.length === 0) break;
      for (const batch of batches) {
        for (const record of batch.records()) {
          if (record.offset < offset) continue;
          const entries = JSON.parse(record.value.toString('utf8')) as Entry[];
          for (const entry of entries) apply(states, entry);
        }
        offset = batch.lastOffset + 1;
      }
    }
    const stateLog = new ConsumerStateLog(log);
    stateLog.#bytesSinceSnapshot = log.sizeBytes;
    return { stateLog, states };
  }

  setSnapshotProvider(provider: SnapshotProvider): void {
    this.#snapshotProvider = provider;
  }

  recordAck(consumer: string, partition: number, offset: number): void {
    this.recordAckRange(consumer, partition, offset, offset + 1);
  }

  recordAckRange(consumer: string, partition: number, start: number, end: number): void {
    const id = `${partition}\u0000${consumer}`;
    let open = this.#ackRuns.get(id);
    if (open === undefined) {
      open = { consumer, partition, runs: [] };
      this.#ackRuns.set(id, open);
    }
    const runs = open.runs;
    const lastEnd = runs[runs.length - 1];
    if (lastEnd === start) runs[runs.length - 1] = end;
    else runs.push(start, end);
    this.#schedule();
  }

  recordDeliveryFailure(
    consumer: string,
    partition: number,
    offset: number,
    count: number,
    error?: string,
  ): void {
    this.#flushAckRuns();
    this.#entries.push(
      error === undefined
        ? { t: 'n', c: consumer, p: partition, o: offset, d: count }
        : { t: 'n', c: consumer, p: partition, o: offset, d: count, e: error },
    );
    this.#schedule();
  }

  /** Writes one consumer's whole state (at creation, and when compacting). */
  recordSnapshot(consumer: string, partitions: readonly PartitionSnapshot[]): void {
    this.#flushAckRuns();
    for (const snapshot of partitions) this.#entries.push(snapshotEntry(consumer, snapshot));
    this.#schedule();
  }

  recordDeleted(consumer: string): void {
    this.#flushAckRuns();
    this.#entries.push({ t: 'x', c: consumer });
    this.#schedule();
  }

  /** Resolves once everything recorded so far is in the log. */
  flush(): Promise<void> {
    this.#write();
    return this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#log.close();
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#write();
    });
  }

  #flushAckRuns(): void {
    for (const open of this.#ackRuns.values()) {
      this.#entries.push({ t: 'a', c: open.consumer, p: open.partition, r: deltaCode(open.runs) });
    }
    this.#ackRuns.clear();
  }

  #write(): void {
    this.#flushAckRuns();
    if (this.#entries.length === 0 || this.#closed) return;
    const entries = this.#entries;
    this.#entries = [];
    const value = Buffer.from(JSON.stringify(entries), 'utf8');
    this.#bytesSinceSnapshot += value.length;
    const compact = this.#bytesSinceSnapshot >= Limits.consumerStateSnapshotBytes;
    this.#writing = this.#writing
      .then(() => this.#log.append({ records: [{ value }] }))
      .then(() => (compact ? this.#compact() : undefined));
  }

  async #compact(): Promise<void> {
    const provider = this.#snapshotProvider;
    if (provider === undefined) return;
    this.#bytesSinceSnapshot = 0;
    this.#flushAckRuns();
    const pending = this.#entries;
    this.#entries = [];
    const records = pending.length === 0 ? [] : [{ value: Buffer.from(JSON.stringify(pending), 'utf8') }];
    const firstSnapshotOffset = this.#log.nextOffset + records.length;
    for (const { consumer, partitions } of provider()) {
      for (const snapshot of partitions) {
        records.push({ value: Buffer.from(JSON.stringify([snapshotEntry(consumer, snapshot)]), 'utf8') });
      }
    }
    if (records.length === 0) return;
    await this.#log.append({ records });
    await this.#log.deleteBefore(Offset(firstSnapshotOffset));
  }
}

function snapshotEntry(consumer: string, snapshot: PartitionSnapshot): Entry {
  const runs: number[] = [];
  for (const range of snapshot.acked) runs.push(range.start, range.end);
  const counts: [number, number, string?][] = [];
  for (const [offset, count] of snapshot.counts) {
    const error = snapshot.errors.get(offset);
    counts.push(error === undefined ? [offset, count] : [offset, count, error]);
  }
  return { t: 's', c: consumer, p: snapshot.partition, f: snapshot.floor, r: deltaCode(runs), n: counts };
}

/** [start, end, start, end…] → [start, length, gap, length…]. */
function deltaCode(runs: readonly number[]): number[] {
  const coded: number[] = [];
  let previousEnd = 0;
  for (let index = 0; index < runs.length; index += 2) {
    const start = runs[index] ?? 0;
    const end = runs[index + 1] ?? 0;
    coded.push(index === 0 ? start : start - previousEnd, end - start);
    previousEnd = end;
  }
  return coded;
}

function deltaDecode(coded: readonly number[]): AckedRange[] {
  const ranges: AckedRange[] = [];
  let previousEnd = 0;
  for (let index = 0; index < coded.length; index += 2) {
    const start = index === 0 ? (coded[0] ?? 0) : previousEnd + (coded[index] ?? 0);
    const end = start + (coded[index + 1] ?? 0);
    ranges.push({ start, end });
    previousEnd = end;
  }
  return ranges;
}

function partitionState(
  states: Map<string, ConsumerState>,
  consumer: string,
  partition: number,
): PartitionState {
  let consumerState = states.get(consumer);
  if (consumerState === undefined) {
    consumerState = new Map();
    states.set(consumer, consumerState);
  }
  let state = consumerState.get(partition);
  if (state === undefined) {
    state = { floor: 0, acked: [], counts: new Map() };
    consumerState.set(partition, state);
  }
  return state;
}

function apply(states: Map<string, ConsumerState>, entry: Entry): void {
  switch (entry.t) {
    case 'a': {
      const state = partitionState(states, entry.c, entry.p);
      for (const range of deltaDecode(entry.r)) {
        state.acked.push(range);
        for (const offset of state.counts.keys()) {
          if (offset >= range.start && offset < range.end) state.counts.delete(offset);
        }
      }
      return;
    }
    case 'n': {
      const state = partitionState(states, entry.c, entry.p);
      state.counts.set(entry.o, [entry.d, entry.e]);
      return;
    }
    case 's': {
      const state = partitionState(states, entry.c, entry.p);
      state.floor = entry.f;
      state.acked = deltaDecode(entry.r);
      state.counts = new Map(entry.n.map(([offset, count, error]) => [offset, [count, error]]));
      return;
    }
    case 'x':
      states.delete(entry.c);
      return;
    default:
      assert(false, `unknown consumer-state entry ${JSON.stringify(entry)}`);
  }
}
