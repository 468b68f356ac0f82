// `npm run bench -- native [--quick] [--only weir|nats]`: the native protocol end to end
// over loopback, against NATS JetStream with the same workloads in the same run.
//
// Workloads (each on its own workqueue stream with one shared durable consumer):
//   - throughput: 1 producer → 1 consumer and 4 → 4, 100 B and 1 KiB bodies, fsync
//     `always` and `never`, fire-and-forget and confirmed publishing; consumers ack every
//     message. End to end: from the first publish until the last message is received.
//   - latency: 1 → 1 at a fixed 10,000 msgs/s, fire-and-forget, p50 and p99 of publish →
//     receive, for both sizes and fsync modes.
//
// The Weir broker runs in its own process (this module started with `--serve-broker`), as
// nats-server does, so clients and broker do not share one event loop. NATS JetStream uses
// file storage in its own data directory on its own loopback port, and is stopped by PID.
// nats-server 2.9 (Debian's) has no per-write fsync setting (`sync_interval` came in 2.10),
// so both of its fsync columns run with its default: data is written to the OS at once and
// fsynced periodically. Weir's `always` column fsyncs before every confirm.

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JetStreamClient, NatsConnection } from 'nats';
import { AckPolicy, RetentionPolicy, StorageType, connect as natsConnect } from 'nats';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { SystemClock } from '../../src/common/clock.js';
import { NativeLimits } from '../../src/common/limits.js';
import { silentLogger } from '../../src/common/logger.js';
import { UsersAuthenticator } from '../../src/core/auth.js';
import { BrokerCore } from '../../src/core/broker.js';
import { isLoopbackAddress } from '../../src/core/protocol-server.js';
import { createNativeServer } from '../../src/protocols/native/server.js';
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
    durationMs: number,
  ): Promise<number[]>;
  close(): Promise<void>;
}

const confirmWindow = 2_000;

// ---- the Weir broker process ----

async function serveBroker(dataDir: string): Promise<void> {
  const core = await BrokerCore.open({ dataDir });
  const server = createNativeServer({
    core,
    authenticator: new UsersAuthenticator({ users: [] }),
    logger: silentLogger,
    clock: new SystemClock(),
    limits: {
      connectionsMax: 1_000,
      frameBytesMax: NativeLimits.frameBytesDefault,
      messageBytesMax: 8 * 1024 * 1024,
    },
    options: {},
  });
  const listener = net.createServer((socket) => {
    socket.setNoDelay(true);
    const remoteAddress = socket.remoteAddress ?? '';
    server.handleConnection(socket, {
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      transport: 'tcp',
      loopback: isLoopbackAddress(remoteAddress),
    });
  });
  listener.listen(0, '127.0.0.1', () => {
    process.stdout.write(`LISTENING ${(listener.address() as net.AddressInfo).port}\n`);
  });
}

/** Starts a process and resolves once its output matches `pattern`, with the match. */
async function spawnUntilListening(
  command: string,
  args: string[],
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const found = pattern.exec(output);
      if (found !== null) resolve(found);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output.slice(-500)}`)));
  });
  // Keep draining its output so the pipe never fills.
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, match };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid as number, 'SIGTERM');
  await exited;
}

function timestampBody(bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes, 120);
  body.writeDoubleBE(performance.now(), 0);
  return body;
}

/** Calls `tick(count)` so that `ratePerSecond` messages go out evenly for `durationMs`. */
async function paced(
  ratePerSecond: number,
  durationMs: number,
  tick: (count: number) => void,
): Promise<void> {
  const start = performance.now();
  let sent = 0;
  const total = Math.floor((ratePerSecond * durationMs) / 1_000);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * ratePerSecond) / 1_000));
    if (due > sent) {
      tick(due - sent);
      sent = due;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// ---- Weir ----

async function weirSystem(): Promise<System> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-native-'));
  const self = fileURLToPath(import.meta.url);
  const { child, match } = await spawnUntilListening(
    process.execPath,
    [self, '--serve-broker', dataDir],
    /LISTENING (\d+)/,
  );
  const port = Number(match[1]);
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
    async latency(bodyBytes, fsync, index, ratePerSecond, durationMs) {
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
          callback: (message) => void samples.push(performance.now() - message.body.readDoubleBE(0)),
        },
      );
      await receiver.admin.listStreams();
      await paced(ratePerSecond, durationMs, (count) => {
        for (let each = 0; each < count; each++) client.publish(subject, timestampBody(bodyBytes));
      });
      const expected = Math.floor((ratePerSecond * durationMs) / 1_000);
      const deadline = performance.now() + 10_000;
      while (samples.length < expected && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await receiver.close();
      await client.admin.deleteStream(stream);
      await client.close();
      return samples;
    },
    async close() {
      await stop(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// ---- NATS JetStream ----

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function natsSystem(): Promise<System> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-nats-'));
  const port = await freePort();
  const config = path.join(dataDir, 'nats.conf');
  await writeFile(
    config,
    `listen: 127.0.0.1:${port}\nmax_payload: 8MB\njetstream {\n  store_dir: "${path.join(dataDir, 'js')}"\n}\n`,
  );
  const { child } = await spawnUntilListening('nats-server', ['-c', config], /Server is ready/);
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
    async latency(bodyBytes, _fsync, index, ratePerSecond, durationMs) {
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
          samples.push(performance.now() - Buffer.from(message.data).readDoubleBE(0));
          message.ack();
        }
      })();
      await paced(ratePerSecond, durationMs, (count) => {
        for (let each = 0; each < count; each++) client.publish(subject, timestampBody(bodyBytes));
      });
      const expected = Math.floor((ratePerSecond * durationMs) / 1_000);
      const deadline = performance.now() + 10_000;
      while (samples.length < expected && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await messages.close();
      await receiver.close();
      await manager.streams.delete(stream);
      await client.close();
      return samples;
    },
    async close() {
      await stop(child);
      await rm(dataDir, { recursive: true, force: true });
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
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const durationMs = quick ? 500 : 3_000;
  const latencyMs = quick ? 500 : 3_000;
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
  if (only === undefined || only === 'weir') systems.push(await weirSystem());
  if (only === undefined || only === 'nats') systems.push(await natsSystem());
  const throughput = new Map<string, Map<string, number>>();
  const latencyP99 = new Map<string, Map<string, number>>();
  try {
    let index = 0;
    for (const workload of workloads) {
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
        for (const system of systems) {
          index++;
          const samples = await system.latency(bodyBytes, fsync, index, 10_000, latencyMs);
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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--serve-broker' && process.argv[3] !== undefined)
    await serveBroker(process.argv[3]);
}
