// `npm run bench -- native [--quick] [--latency] [--only weir|nats] [--workload <text>]`: the native protocol end to end
// over loopback, against NATS JetStream with the same workloads in the same run.
//
// Workloads (each on its own workqueue stream with one shared durable consumer):
//   - throughput: 1 producer → 1 consumer and 4 → 4, 100 B and 1 KiB bodies, fsync
//     `always` and `never`, fire-and-forget and confirmed publishing; consumers ack every
//     message. End to end: from the first publish until the last message is received.
//   - latency: 1 → 1 at a fixed 10,000 msgs/s, fire-and-forget, p50 and p99 of publish →
//     receive (from the moment `publish` is called to the consumer's callback), for both sizes
//     and fsync modes; after a warm-up second that is not measured; paced by a 1 ms timer,
//     with the generator's lag reported beside (`paced`). `--latency` runs only these.
//
// Both brokers are the harness's systems (bench/harness/peers/): Weir as `weir serve` in its own
// process, as nats-server is, so clients and broker do not share one event loop; each on its
// own loopback port with its own data directory (NATS JetStream with file storage), stopped
// by its process group.
// nats-server 2.9 (Debian's) has no per-write fsync setting (`sync_interval` came in 2.10),
// so both of its fsync columns run with its default: data is written to the OS at once and
// fsynced periodically. Weir's `always` column fsyncs before every confirm.

import type { JetStreamClient, NatsConnection } from 'nats';
import { AckPolicy, RetentionPolicy, StorageType, connect as natsConnect } from 'nats';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { natsSystem } from '../harness/peers/nats.js';
import { weirSystem } from '../harness/peers/weir.js';
import { describeSuiteMachine, describeSuiteSystem, startSuiteSystem } from '../harness/suite-systems.js';
import type { RunningSystem, SystemDefinition, SystemProtocol } from '../harness/system.js';
import type { BenchResult } from '../report.js';
import { emit, printTable } from '../report.js';

type FsyncMode = 'always' | 'never';
type PublishMode = 'fire_and_forget' | 'confirmed';

interface ThroughputWorkload {
  readonly name: string;
  readonly producers: number;
  readonly consumers: number;
  readonly bodyBytes: number;
  readonly fsync: FsyncMode;
  readonly mode: PublishMode;
}

/** Publish → receive latencies, and how late the generator sent each message. */
interface LatencySamples {
  readonly samples: number[];
  readonly generatorLagMs: number[];
}

/** One system under test: sets up a workload's stream and runs its clients. */
interface System {
  readonly name: string;
  throughput(
    workload: ThroughputWorkload,
    index: number,
    messagesMax: number,
    durationMs: number,
  ): Promise<number>;
  latency(
    bodyBytes: number,
    fsync: FsyncMode,
    index: number,
    ratePerSecond: number,
    warmupMs: number,
    durationMs: number,
  ): Promise<LatencySamples>;
  close(): Promise<void>;
}

const confirmWindow = 2_000;

// ---- the brokers: the harness's systems (bench/harness/peers/) ----

const weirDefinition = weirSystem({
  protocols: ['native'],
  onlyMeasured: true,
  settings: ['weir serve, native protocol only; fsync set per stream by each workload'],
});

// nats-server 2.9 has no per-write fsync setting, so both fsync columns run with its default.
const natsDefinition = natsSystem({
  protocols: ['nats'],
  config: ['max_payload: 8MB'],
  settings: ['client protocol, JetStream file storage, max_payload 8 MB; no per-write fsync setting in 2.9'],
});

/** Starts a system for this suite and says on stderr what it is. */
async function startSystem(
  definition: SystemDefinition,
  protocol: SystemProtocol,
): Promise<{
  readonly system: RunningSystem;
  readonly port: number;
}> {
  const system = await startSuiteSystem(definition, 'native');
  const port = system.ports[protocol];
  if (port === undefined) {
    await system.stop();
    throw new Error(`${system.name} serves no ${protocol} protocol`);
  }
  for (const line of describeSuiteSystem(system)) process.stderr.write(`${line}\n`);
  return { system, port };
}

/** A body that carries its send time (offset 0) and whether it is measured (byte 8). */
function timestampBody(bodyBytes: number, measured: boolean): Buffer {
  const body = Buffer.alloc(bodyBytes, 120);
  body.writeDoubleBE(performance.now(), 0);
  body[8] = measured ? 1 : 0;
  return body;
}

/** The latency of a received body, or undefined for a warm-up message. */
function latencyOf(body: Buffer): number | undefined {
  return body[8] === 1 ? performance.now() - body.readDoubleBE(0) : undefined;
}

/**
 * Calls `send(measured)` so that `ratePerSecond` messages go out evenly, first for `warmupMs`
 * (not measured: JIT compilation and heap growth of a fresh process are not the steady state
 * either system is judged on), then for `durationMs`; returns how late each measured message
 * went out against its scheduled time (the generator's lag).
 *
 * It wakes on a 1 ms timer and sends what is due (10 messages a tick at 10,000 msgs/s), so
 * between ticks the process sleeps. (It used to spin on setImmediate, which kept one of this
 * 2-core machine's cores busy in the client process and took it from the broker under test.)
 * Each message carries its actual send time and latency is measured from it; the lag is
 * reported beside it so a stalled generator cannot hide a stalled broker.
 */
async function paced(
  ratePerSecond: number,
  warmupMs: number,
  durationMs: number,
  send: (measured: boolean) => void,
): Promise<number[]> {
  const start = performance.now();
  const warmup = Math.floor((ratePerSecond * warmupMs) / 1_000);
  const total = warmup + Math.floor((ratePerSecond * durationMs) / 1_000);
  const lagMs: number[] = [];
  let sent = 0;
  while (sent < total) {
    const nowMs = performance.now();
    const due = Math.min(total, Math.floor(((nowMs - start) * ratePerSecond) / 1_000));
    for (; sent < due; sent++) {
      if (sent >= warmup) lagMs.push(nowMs - (start + (sent * 1_000) / ratePerSecond));
      send(sent >= warmup);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return lagMs;
}

// ---- Weir ----

async function weirClients(): Promise<System> {
  const { system: broker, port } = await startSystem(weirDefinition, 'native');
  return {
    name: 'weir',
    async throughput(workload, index, messagesMax, durationMs) {
      const admin = await connect({ servers: `127.0.0.1:${port}` });
      const stream = `bench_${index}`;
      const subject = `bench.${index}`;
      await admin.admin.addStream({
        name: stream,
        subjects: [subject],
        retention: 'workqueue',
        fsync: { kind: workload.fsync },
      });
      await admin.admin.addConsumer(stream, {
        name: 'c',
        dispatch: 'shared',
        ackPolicy: 'explicit',
        maxAckPending: 100_000,
      });
      const producers: NetworkClient[] = [];
      const consumers: NetworkClient[] = [];
      for (let each = 0; each < workload.producers; each++)
        producers.push(await connect({ servers: `127.0.0.1:${port}` }));
      for (let each = 0; each < workload.consumers; each++)
        consumers.push(await connect({ servers: `127.0.0.1:${port}` }));
      let received = 0;
      let published = 0;
      let allReceived: () => void = () => undefined;
      let target = Number.POSITIVE_INFINITY;
      const done = new Promise<void>((resolve) => (allReceived = resolve));
      for (const consumer of consumers) {
        consumer.subscribe(
          { stream, consumer: 'c' },
          {
            prefetch: 5_000,
            callback: () => {
              received++;
              if (received >= target) allReceived();
            },
          },
        );
      }
      const body = Buffer.alloc(workload.bodyBytes, 120);
      const perProducer = Math.floor(messagesMax / workload.producers);
      const start = performance.now();
      const deadline = start + durationMs;
      await Promise.all(
        producers.map(async (producer) => {
          if (workload.mode === 'fire_and_forget') {
            for (let count = 0; count < perProducer && performance.now() < deadline; count++) {
              published++;
              if (!producer.publish(subject, body)) await producer.drained();
            }
            return;
          }
          let inFlight = 0;
          let wake: () => void = () => undefined;
          for (let count = 0; count < perProducer && performance.now() < deadline; count++) {
            published++;
            inFlight++;
            void producer.publishConfirmed(subject, body).then(() => {
              inFlight--;
              if (inFlight <= confirmWindow / 2) wake();
            });
            if (inFlight >= confirmWindow) await new Promise<void>((resolve) => (wake = resolve));
          }
          while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
        }),
      );
      target = published;
      if (received >= target) allReceived();
      await done;
      const elapsedMs = performance.now() - start;
      for (const client of [...producers, ...consumers]) await client.close();
      await admin.admin.deleteStream(stream);
      await admin.close();
      return (published * 1_000) / elapsedMs;
    },
    async latency(bodyBytes, fsync, index, ratePerSecond, warmupMs, durationMs) {
      const client = await connect({ servers: `127.0.0.1:${port}` });
      const receiver = await connect({ servers: `127.0.0.1:${port}` });
      const stream = `latency_${index}`;
      const subject = `latency.${index}`;
      await client.admin.addStream({
        name: stream,
        subjects: [subject],
        retention: 'workqueue',
        fsync: { kind: fsync },
      });
      await client.admin.addConsumer(stream, { name: 'c', dispatch: 'shared' });
      const samples: number[] = [];
      receiver.subscribe(
        { stream, consumer: 'c' },
        {
          prefetch: 1_000,
          callback: (message) => {
            const latencyMs = latencyOf(message.body);
            if (latencyMs !== undefined) samples.push(latencyMs);
          },
        },
      );
      await receiver.admin.listStreams();
      const generatorLagMs = await paced(ratePerSecond, warmupMs, durationMs, (measured) =>
        client.publish(subject, timestampBody(bodyBytes, measured)),
      );
      const expected = Math.floor((ratePerSecond * durationMs) / 1_000);
      const deadline = performance.now() + 10_000;
      while (samples.length < expected && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await receiver.close();
      await client.admin.deleteStream(stream);
      await client.close();
      return { samples, generatorLagMs };
    },
    async close() {
      await broker.stop();
    },
  };
}

// ---- NATS JetStream ----

async function natsClients(): Promise<System> {
  const { system: broker, port } = await startSystem(natsDefinition, 'nats');
  const open = (): Promise<NatsConnection> => natsConnect({ servers: `127.0.0.1:${port}` });
  return {
    name: 'nats',
    async throughput(workload, index, messagesMax, durationMs) {
      const admin = await open();
      const manager = await admin.jetstreamManager();
      const stream = `bench_${index}`;
      const subject = `bench.${index}`;
      await manager.streams.add({
        name: stream,
        subjects: [subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      });
      await manager.consumers.add(stream, {
        durable_name: 'c',
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: 100_000,
      });
      const producers: NatsConnection[] = [];
      const consumers: NatsConnection[] = [];
      for (let each = 0; each < workload.producers; each++) producers.push(await open());
      for (let each = 0; each < workload.consumers; each++) consumers.push(await open());
      let received = 0;
      let published = 0;
      let target = Number.POSITIVE_INFINITY;
      let allReceived: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (allReceived = resolve));
      const stops: (() => void)[] = [];
      for (const consumer of consumers) {
        const handle = await consumer.jetstream().consumers.get(stream, 'c');
        const messages = await handle.consume({ max_messages: 5_000 });
        stops.push(() => void messages.stop());
        void (async () => {
          for await (const message of messages) {
            message.ack();
            received++;
            if (received >= target) allReceived();
          }
        })();
      }
      const body = Buffer.alloc(workload.bodyBytes, 120);
      const perProducer = Math.floor(messagesMax / workload.producers);
      const start = performance.now();
      const deadline = start + durationMs;
      await Promise.all(
        producers.map(async (producer) => {
          if (workload.mode === 'fire_and_forget') {
            for (let count = 0; count < perProducer && performance.now() < deadline; count++) {
              published++;
              producer.publish(subject, body);
              if (count % 1_000 === 999) await producer.flush();
            }
            await producer.flush();
            return;
          }
          const js: JetStreamClient = producer.jetstream();
          let inFlight = 0;
          let wake: () => void = () => undefined;
          for (let count = 0; count < perProducer && performance.now() < deadline; count++) {
            published++;
            inFlight++;
            void js.publish(subject, body).then(() => {
              inFlight--;
              if (inFlight <= confirmWindow / 2) wake();
            });
            if (inFlight >= confirmWindow) await new Promise<void>((resolve) => (wake = resolve));
          }
          while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
        }),
      );
      target = published;
      if (received >= target) allReceived();
      await done;
      const elapsedMs = performance.now() - start;
      for (const stopConsuming of stops) stopConsuming();
      for (const connection of [...producers, ...consumers]) await connection.close();
      await manager.streams.delete(stream);
      await admin.close();
      return (published * 1_000) / elapsedMs;
    },
    async latency(bodyBytes, _fsync, index, ratePerSecond, warmupMs, durationMs) {
      const client = await open();
      const receiver = await open();
      const manager = await client.jetstreamManager();
      const stream = `latency_${index}`;
      const subject = `latency.${index}`;
      await manager.streams.add({
        name: stream,
        subjects: [subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      });
      await manager.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit });
      const samples: number[] = [];
      const handle = await receiver.jetstream().consumers.get(stream, 'c');
      const messages = await handle.consume({ max_messages: 1_000 });
      void (async () => {
        for await (const message of messages) {
          const latencyMs = latencyOf(Buffer.from(message.data));
          if (latencyMs !== undefined) samples.push(latencyMs);
          message.ack();
        }
      })();
      const generatorLagMs = await paced(ratePerSecond, warmupMs, durationMs, (measured) =>
        client.publish(subject, timestampBody(bodyBytes, measured)),
      );
      const expected = Math.floor((ratePerSecond * durationMs) / 1_000);
      const deadline = performance.now() + 10_000;
      while (samples.length < expected && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await messages.close();
      await receiver.close();
      await manager.streams.delete(stream);
      await client.close();
      return { samples, generatorLagMs };
    },
    async close() {
      await broker.stop();
    },
  };
}

// ---- the run ----

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const latencyOnly = args.includes('--latency');
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  // `--workload 1to1.100B`: only the throughput workloads and latency rows whose names
  // contain this text (e.g. `1to1.100B.fsync_always.confirmed`, `latency_10k.100B`).
  const workloadIndex = args.indexOf('--workload');
  const workloadFilter = workloadIndex >= 0 ? (args[workloadIndex + 1] ?? '') : '';
  const durationMs = quick ? 500 : 3_000;
  const latencyMs = quick ? 500 : 3_000;
  const warmupMs = quick ? 200 : 1_000;
  const workloads: ThroughputWorkload[] = [];
  for (const [producers, consumers] of [
    [1, 1],
    [4, 4],
  ] as const) {
    for (const bodyBytes of [100, 1024]) {
      for (const fsync of ['always', 'never'] as const) {
        for (const mode of ['fire_and_forget', 'confirmed'] as const) {
          workloads.push({
            name: `${producers}to${consumers}.${bodyBytes}B.fsync_${fsync}.${mode}`,
            producers,
            consumers,
            bodyBytes,
            fsync,
            mode,
          });
        }
      }
    }
  }
  const results: BenchResult[] = [];
  const record = (result: BenchResult): void => {
    results.push(result);
    emit(result);
  };
  const systems: System[] = [];
  process.stderr.write(`${describeSuiteMachine()}\n`);
  if (only === undefined || only === 'weir') systems.push(await weirClients());
  if (only === undefined || only === 'nats') systems.push(await natsClients());
  const throughput = new Map<string, Map<string, number>>();
  const latencyP99 = new Map<string, Map<string, number>>();
  try {
    let index = 0;
    for (const workload of latencyOnly ? [] : workloads) {
      if (!workload.name.includes(workloadFilter)) continue;
      for (const system of systems) {
        index++;
        const messagesMax = workload.mode === 'confirmed' ? 1_000_000 : 2_000_000;
        const value = await system.throughput(workload, index, quick ? 20_000 : messagesMax, durationMs);
        const bench = `native.${workload.name}`;
        record({
          bench,
          system: system.name,
          metric: 'throughput',
          value: Math.round(value),
          unit: 'msgs/s',
        });
        if (!throughput.has(bench)) throughput.set(bench, new Map());
        throughput.get(bench)?.set(system.name, value);
      }
    }
    for (const bodyBytes of [100, 1024]) {
      for (const fsync of ['always', 'never'] as const) {
        if (!`latency_10k.${bodyBytes}B.fsync_${fsync}`.includes(workloadFilter)) continue;
        for (const system of systems) {
          index++;
          const { samples, generatorLagMs } = await system.latency(
            bodyBytes,
            fsync,
            index,
            10_000,
            warmupMs,
            latencyMs,
          );
          const sorted = [...samples].sort((a, b) => a - b);
          const bench = `native.latency_10k.${bodyBytes}B.fsync_${fsync}`;
          record({
            bench,
            system: system.name,
            metric: 'p50',
            value: round(percentile(sorted, 0.5), 3),
            unit: 'ms',
          });
          record({
            bench,
            system: system.name,
            metric: 'p99',
            value: round(percentile(sorted, 0.99), 3),
            unit: 'ms',
          });
          record({ bench, system: system.name, metric: 'received', value: samples.length, unit: 'msgs' });
          const lagSorted = [...generatorLagMs].sort((a, b) => a - b);
          record({
            bench,
            system: system.name,
            metric: 'generator_lag_p99',
            value: round(percentile(lagSorted, 0.99), 3),
            unit: 'ms',
          });
          if (!latencyP99.has(bench)) latencyP99.set(bench, new Map());
          latencyP99.get(bench)?.set(system.name, percentile(sorted, 0.99));
        }
      }
    }
  } finally {
    for (const system of systems) await system.close();
  }
  for (const [bench, bySystem] of throughput) {
    const weir = bySystem.get('weir');
    const nats = bySystem.get('nats');
    if (weir !== undefined && nats !== undefined && nats > 0) {
      record({
        bench,
        system: 'weir/nats',
        metric: 'throughput_ratio',
        value: round(weir / nats, 2),
        unit: 'x',
      });
    }
  }
  for (const [bench, bySystem] of latencyP99) {
    const weir = bySystem.get('weir');
    const nats = bySystem.get('nats');
    if (weir !== undefined && nats !== undefined && weir > 0) {
      record({ bench, system: 'nats/weir', metric: 'p99_ratio', value: round(nats / weir, 2), unit: 'x' });
    }
  }
  printTable(results);
}
