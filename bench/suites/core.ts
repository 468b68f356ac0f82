// `npm run bench -- core [--messages N] [--always-messages N]
//   [--only never|always|memory|delayed|lateness|transactions|dedup] [--delayed-messages N]`
//
// In-process publish → consume with explicit acks (100-byte messages) on a file stream with
// fsync `never` and `always`, end to end: from the first publish to the last ack. And the
// ack-state memory of a consumer holding 1,000,000 unacked messages after random acks.
// Core II (bench/core2/workloads.ts): delayed scheduling and lateness, transactional and
// deduplicated publish.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Delivery, FsyncPolicy } from '../../src/index.js';
import { BrokerCore } from '../../src/index.js';
import { type BenchResult, emit, printTable } from '../report.js';
import {
  dedupOverhead,
  delayedIdleLateness,
  delayedLateness,
  delayedScheduling,
  transactionalPublish,
} from '../core2/workloads.js';

function option(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function publishConsume(fsync: FsyncPolicy, messages: number): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-core-'));
  const core = await BrokerCore.open({ dataDir: dir });
  try {
    await core.addStream({ name: 'bench', subjects: ['bench.>'], fsync });
    await core.addConsumer('bench', { name: 'worker', maxAckPending: 20_000 });
    const producer = core.openSession();
    const consumer = core.openSession();
    const body = Buffer.alloc(100, 'x');
    let acked = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    consumer.attach('bench', 'worker', {
      credit: 5_000,
      onDelivery: (delivery: Delivery) => {
        consumer.ack(delivery);
        acked += 1;
        if (acked === messages) done();
      },
    });
    const started = process.hrtime.bigint();
    let sent = 0;
    while (sent < messages) {
      const chunk = Math.min(5_000, messages - sent);
      for (let index = 0; index < chunk; index++) producer.publish({ subject: 'bench.item', body });
      sent += chunk;
      // Flow control: keep the in-flight window bounded, as a confirmed producer would.
      while (sent - acked > 20_000) await turn();
      await turn();
    }
    await finished;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return messages / seconds;
  } finally {
    await core.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A full garbage collection, so heap figures measure what is live. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
}

async function ackStateMemory(
  unacked: number,
): Promise<{ trackerBytes: number; consumerBytes: number; heapBytes: number }> {
  const core = await BrokerCore.open({ storage: 'memory' });
  try {
    await core.addStream({ name: 'mem', subjects: ['mem'] });
    await core.addConsumer('mem', { name: 'c', maxAckPending: unacked, ackWaitMs: 3_600_000 });
    const session = core.openSession();
    const body = Buffer.alloc(100);
    for (let sent = 0; sent < unacked; sent += 10_000) {
      for (let index = 0; index < 10_000; index++) session.publish({ subject: 'mem', body });
      await turn();
    }
    while (core.streamInfo('mem').messages < unacked) await turn();
    const deliveries: Delivery[] = [];
    session.attach('mem', 'c', { credit: unacked, onDelivery: (delivery) => deliveries.push(delivery) });
    while (deliveries.length < unacked) await turn();
    // Random acks: each delivery acked with probability one half (a fixed seed for repeatability).
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    // Keep only the offsets of the unacked ones, so the heap measures the broker, not the client.
    const kept = new Float64Array(unacked);
    let keptCount = 0;
    for (const delivery of deliveries) {
      if (random() < 0.5) session.ack(delivery);
      else kept[keptCount++] = delivery.offset;
    }
    deliveries.length = 0;
    await turn();
    collectGarbage();
    const heapWithState = v8.getHeapStatistics().used_heap_size;
    const info = core.consumerInfo('mem', 'c');
    const tracker = core.consumer('mem', 'c').partitions[0]?.tracker.memoryBytes() ?? 0;
    // Ack the rest: what the heap gives back is what the unacked state cost.
    for (let index = 0; index < keptCount; index++) {
      const offset = kept[index] as number;
      session.ack({ stream: 'mem', consumer: 'c', partition: 0, offset, deliveryCount: 1 } as Delivery);
    }
    await turn();
    collectGarbage();
    const heapWithout = v8.getHeapStatistics().used_heap_size;
    return { trackerBytes: tracker, consumerBytes: info.memoryBytes, heapBytes: heapWithState - heapWithout };
  } finally {
    await core.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const messages = option(args, 'messages', 1_000_000);
  const alwaysMessages = option(args, 'always-messages', 200_000);
  const results: BenchResult[] = [];
  const record = (result: BenchResult): void => {
    emit(result);
    results.push(result);
  };
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const wanted = (name: string): boolean => only === undefined || only === name;
  if (wanted('never')) {
    const never = await publishConsume({ kind: 'never' }, messages);
    record({
      bench: 'core.publish_consume_ack.100B.fsync_never',
      system: 'weir',
      metric: 'throughput',
      value: Math.round(never),
      unit: 'msgs/s',
    });
  }
  if (wanted('always')) {
    const always = await publishConsume({ kind: 'always' }, alwaysMessages);
    record({
      bench: 'core.publish_consume_ack.100B.fsync_always',
      system: 'weir',
      metric: 'throughput',
      value: Math.round(always),
      unit: 'msgs/s',
    });
  }
  if (wanted('memory')) {
    const memory = await ackStateMemory(1_000_000);
    record({
      bench: 'core.ack_state.1M_unacked_random_acks',
      system: 'weir',
      metric: 'ack_tracker',
      value: memory.trackerBytes,
      unit: 'bytes',
    });
    record({
      bench: 'core.ack_state.1M_unacked_random_acks',
      system: 'weir',
      metric: 'consumer_state_estimate',
      value: memory.consumerBytes,
      unit: 'bytes',
    });
    record({
      bench: 'core.ack_state.1M_unacked_random_acks',
      system: 'weir',
      metric: 'consumer_state_heap',
      value: memory.heapBytes,
      unit: 'bytes',
    });
  }
  // Core II.
  if (wanted('delayed')) await delayedScheduling(option(args, 'delayed-messages', 1_000_000), record);
  if (wanted('lateness')) {
    await delayedIdleLateness(30, record);
    await delayedLateness(50_000, 3_000, record);
  }
  if (wanted('transactions')) await transactionalPublish(100_000, 100, record);
  if (wanted('dedup')) await dedupOverhead(200_000, record);
  printTable(results);
}
