// Consumer state of one stream, kept in its own small log (DESIGN.md §3) and replayed at
// restart instead of rebuilding anything from the data.
//
// Each record's value is UTF-8 JSON: an array of entries, each one of
//   {"t":"a","c":consumer,"p":partition,"r":ranges}          acks
//   {"t":"n","c":consumer,"p":partition,"o":offset,"d":count,"e"?:error}
//                                                             a failed delivery attempt
//   {"t":"s","c":consumer,"p":partition,"f":floor,"r":ranges,"n":[[offset,count,error?]…]}
//                                                             snapshot: replaces that state
//   {"t":"c","c":consumer,"p":partition,"n":[[offset,count,error?]…]}
//                                                             more counts of the snapshot before
//   {"t":"x","c":consumer}                                    consumer deleted
// `ranges` are acked runs, delta-coded: [start, length, gap, length, gap, length…] where each
// gap counts from the end of the previous run. Entries apply in log order.
//
// Acks are buffered and coalesced into runs; once per turn of the event loop everything
// buffered is written, as records of at most `recordBytesTarget` packed into batches. Long
// lists are split into several entries (a snapshot is an `s` entry followed by `a` and `c`
// entries), so no record outgrows the log's limits. A crash in the middle of a snapshot
// that spans several batches leaves a partial state: offsets it had acked are then
// delivered again, never lost. Once the log has grown by `consumerStateSnapshotBytes` since the last
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
  | { t: 'c'; c: string; p: number; n: [number, number, string?][] }
  | { t: 'x'; c: string };

/** Runs (or counts) per entry, and bytes per record, so records stay far below the log's limits. */
const runsPerEntry = 20_000;
const countsPerEntry = 20_000;
const recordBytesTarget = 1024 * 1024;
const batchBytesTarget = 8 * 1024 * 1024;

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
  #lastRuns: { consumer: string; partition: number; runs: number[] } | undefined;
  #flushScheduled = false;
  #writing: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #bytesSinceSnapshot = 0;
  #snapshotProvider: SnapshotProvider | undefined;
  #closed = false;
  readonly #snapshotBytes: number;
  #snapshots = 0;

  private constructor(log: Log, snapshotBytes: number) {
    this.#log = log;
    this.#snapshotBytes = snapshotBytes;
  }

  /** Snapshots written since open (compactions). */
  get snapshots(): number {
    return this.#snapshots;
  }

  /** Opens the log and replays it into each consumer's state. */
  static async open(
    log: Log,
    snapshotBytes: number = Limits.consumerStateSnapshotBytes,
  ): Promise<{ stateLog: ConsumerStateLog; states: Map<string, ConsumerState> }> {
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
    const stateLog = new ConsumerStateLog(log, snapshotBytes);
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
    let open = this.#lastRuns;
    if (open === undefined || open.consumer !== consumer || open.partition !== partition) {
      // Acks come in streaks for one consumer partition: only a change of target pays a lookup.
      const id = `${partition}\u0000${consumer}`;
      open = this.#ackRuns.get(id);
      if (open === undefined) {
        open = { consumer, partition, runs: [] };
        this.#ackRuns.set(id, open);
      }
      this.#lastRuns = open;
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
    for (const snapshot of partitions) this.#entries.push(...snapshotEntries(consumer, snapshot));
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
    return this.#writing.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
    });
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
      for (let index = 0; index < open.runs.length; index += 2 * runsPerEntry) {
        const slice = open.runs.slice(index, index + 2 * runsPerEntry);
        this.#entries.push({ t: 'a', c: open.consumer, p: open.partition, r: deltaCode(slice) });
      }
    }
    this.#ackRuns.clear();
    this.#lastRuns = undefined;
  }

  #write(): void {
    this.#flushAckRuns();
    if (this.#entries.length === 0 || this.#closed) return;
    const batches = pack(this.#entries);
    this.#entries = [];
    for (const batch of batches) for (const record of batch) this.#bytesSinceSnapshot += record.value.length;
    const compact = this.#bytesSinceSnapshot >= this.#snapshotBytes;
    this.#writing = this.#writing
      .then(async () => {
        if (this.#failure !== undefined) return;
        for (const records of batches) await this.#log.append({ records });
        if (compact) await this.#compact();
      })
      .catch((error: unknown) => {
        // Kept, and thrown by every later flush: consumer state stops being durable, loudly.
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      });
  }

  async #compact(): Promise<void> {
    const provider = this.#snapshotProvider;
    if (provider === undefined) return;
    this.#bytesSinceSnapshot = 0;
    this.#flushAckRuns();
    const pending = this.#entries;
    this.#entries = [];
    for (const records of pack(pending)) await this.#log.append({ records });
    const firstSnapshotOffset = this.#log.nextOffset;
    const entries: Entry[] = [];
    for (const { consumer, partitions } of provider()) {
      for (const snapshot of partitions) entries.push(...snapshotEntries(consumer, snapshot));
    }
    if (entries.length === 0) return;
    for (const records of pack(entries)) await this.#log.append({ records });
    await this.#log.deleteBefore(Offset(firstSnapshotOffset));
    this.#snapshots += 1;
  }
}

/** Entries → records of about `recordBytesTarget` → batches of about `batchBytesTarget`. */
function pack(entries: readonly Entry[]): { value: Buffer }[][] {
  const batches: { value: Buffer }[][] = [];
  let batch: { value: Buffer }[] = [];
  let batchBytes = 0;
  let parts: string[] = [];
  let partsBytes = 0;
  const closeRecord = (): void => {
    if (parts.length === 0) return;
    const value = Buffer.from(`[${parts.join(',')}]`, 'utf8');
    assert(value.length <= Limits.recordBytesMax, 'a consumer-state record fits the log');
    if (batch.length > 0 && batchBytes + value.length > batchBytesTarget) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push({ value });
    batchBytes += value.length;
    parts = [];
    partsBytes = 0;
  };
  for (const entry of entries) {
    const text = JSON.stringify(entry);
    if (partsBytes > 0 && partsBytes + text.length > recordBytesTarget) closeRecord();
    parts.push(text);
    partsBytes += text.length + 1;
  }
  closeRecord();
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function snapshotEntries(consumer: string, snapshot: PartitionSnapshot): Entry[] {
  const runs: number[] = [];
  for (const range of snapshot.acked) runs.push(range.start, range.end);
  const counts: [number, number, string?][] = [];
  for (const [offset, count] of snapshot.counts) {
    const error = snapshot.errors.get(offset);
    counts.push(error === undefined ? [offset, count] : [offset, count, error]);
  }
  const partition = snapshot.partition;
  const entries: Entry[] = [
    {
      t: 's',
      c: consumer,
      p: partition,
      f: snapshot.floor,
      r: deltaCode(runs.slice(0, 2 * runsPerEntry)),
      n: counts.slice(0, countsPerEntry),
    },
  ];
  for (let index = 2 * runsPerEntry; index < runs.length; index += 2 * runsPerEntry) {
    entries.push({
      t: 'a',
      c: consumer,
      p: partition,
      r: deltaCode(runs.slice(index, index + 2 * runsPerEntry)),
    });
  }
  for (let index = countsPerEntry; index < counts.length; index += countsPerEntry) {
    entries.push({ t: 'c', c: consumer, p: partition, n: counts.slice(index, index + countsPerEntry) });
  }
  return entries;
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
      // Counts of offsets acked later are dropped when the consumer is rebuilt, not here:
      // that would cost ranges × counts.
      for (const range of deltaDecode(entry.r)) state.acked.push(range);
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
    case 'c': {
      const state = partitionState(states, entry.c, entry.p);
      for (const [offset, count, error] of entry.n) state.counts.set(offset, [count, error]);
      return;
    }
    case 'x':
      states.delete(entry.c);
      return;
    default:
      assert(false, `unknown consumer-state entry ${JSON.stringify(entry)}`);
  }
}
