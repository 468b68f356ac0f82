// `npm run bench -- stomp [--messages N] [--subscribers S] [--peers weir,activemq,rabbitmq]`
//
// Weir against ActiveMQ and RabbitMQ (STOMP plugin), the harness's systems (bench/harness/
// peers/), each started on its own loopback ports and data directory and stopped by its process
// group, with the same client (bench/suites/stomp-lib/client.ts, on Weir's codec) and the same
// workloads, in one run:
//
//   queue    persistent queue: one producer SENDs 1 KiB messages with `persistent:true`, a
//            RECEIPT for each, at most `window` unreceipted; one consumer at the same time,
//            `ack:client-individual`, prefetch `window`, ACKing each message.
//            Metrics: receipted sends/s (until the last RECEIPT) and consumed msgs/s (until
//            the last MESSAGE).
//   fanout   topic fan-out: S live subscribers (`ack:auto`) on one topic; one producer SENDs
//            non-persistent 1 KiB messages, a RECEIPT every 100 as flow control.
//            Metric: deliveries/s across all subscribers.
//
// Every peer runs a short warm-up of each workload first, then `repeat` (default 3) measured
// runs; the median is reported, the individual runs are printed. Ratios are Weir's value
// divided by the peer's. The machine's load average is printed before each peer, since other
// work on the machine moves these numbers.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { emit, printTable, type BenchResult } from '../report.js';
import { BenchClient } from './stomp-lib/client.js';
import { describeSuiteMachine } from '../harness/suite-systems.js';
import { peerDefinitions, startPeer, type Peer } from './stomp-lib/peers.js';

interface Settings {
  readonly messages: number;
  readonly subscribers: number;
  readonly window: number;
  readonly bodyBytes: number;
  readonly peers: readonly string[];
  readonly timeoutMs: number;
  /** Measured runs of each workload per peer; the median is reported. */
  readonly repeat: number;
}

export function parseArgs(args: readonly string[]): Settings {
  const value = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  return {
    messages: Number(value('messages') ?? 20_000),
    subscribers: Number(value('subscribers') ?? 4),
    window: Number(value('window') ?? 200),
    bodyBytes: Number(value('size') ?? 1024),
    peers: (value('peers') ?? 'weir,activemq,rabbitmq').split(','),
    timeoutMs: Number(value('timeout') ?? 120_000),
    repeat: Number(value('repeat') ?? 3),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

async function connect(peer: Peer): Promise<BenchClient> {
  return BenchClient.connect({ port: peer.port, login: peer.login, passcode: peer.passcode });
}

interface QueueResult {
  readonly sendPerSecond: number;
  readonly consumePerSecond: number;
}

export async function queueWorkload(peer: Peer, settings: Settings, messages: number): Promise<QueueResult> {
  const destination = `/queue/bench.q${randomBytes(4).toString('hex')}`;
  const body = randomBytes(settings.bodyBytes);
  const consumer = await connect(peer);
  const producer = await connect(peer);
  const failures: Error[] = [];
  consumer.onError((error) => failures.push(error));
  producer.onError((error) => failures.push(error));
  let received = 0;
  let consumedAt = 0;
  let resolveConsumed: () => void = () => undefined;
  const consumed = new Promise<void>((resolve) => (resolveConsumed = resolve));
  await consumer.subscribe(destination, 'c', 'client-individual', settings.window, (frame) => {
    consumer.ack(frame);
    if (++received === messages) {
      consumedAt = performance.now();
      resolveConsumed();
    }
  });
  const start = performance.now();
  let sent = 0;
  let confirmed = 0;
  let confirmedAt = 0;
  const allConfirmed = new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < messages && sent - confirmed < settings.window) {
        sent++;
        void producer.send(destination, body, [['persistent', 'true']], true)?.then(() => {
          if (++confirmed === messages) {
            confirmedAt = performance.now();
            resolve();
          } else pump();
        });
      }
    };
    pump();
  });
  try {
    await withTimeout(
      Promise.all([allConfirmed, consumed]),
      settings.timeoutMs,
      `queue workload on ${peer.system}`,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; sent ${sent}, receipts ${confirmed}, consumed ${received}; ${failures.map((failure) => failure.message).join('; ')}`,
    );
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
  return {
    sendPerSecond: (messages * 1000) / (confirmedAt - start),
    consumePerSecond: (messages * 1000) / (consumedAt - start),
  };
}

export async function fanoutWorkload(peer: Peer, settings: Settings, messages: number): Promise<number> {
  const destination = `/topic/bench.t${randomBytes(4).toString('hex')}`;
  const body = randomBytes(settings.bodyBytes);
  const subscribers: BenchClient[] = [];
  const failures: Error[] = [];
  const counts: number[] = [];
  let finished = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  for (let index = 0; index < settings.subscribers; index++) {
    const client = await connect(peer);
    client.onError((error) => failures.push(error));
    counts.push(0);
    await client.subscribe(destination, `s${index}`, 'auto', 1000, () => {
      const count = (counts[index] ?? 0) + 1;
      counts[index] = count;
      if (count === messages && ++finished === settings.subscribers) resolveAll();
    });
    subscribers.push(client);
  }
  const producer = await connect(peer);
  producer.onError((error) => failures.push(error));
  const batch = 100;
  const receiptsInFlightMax = 10;
  const start = performance.now();
  let sent = 0;
  let inFlight = 0;
  const pump = (): void => {
    while (sent < messages && inFlight < receiptsInFlightMax) {
      sent++;
      const receipt = sent % batch === 0 || sent === messages;
      const done = producer.send(destination, body, [], receipt);
      if (done !== undefined) {
        inFlight++;
        void done.then(() => {
          inFlight--;
          pump();
        });
      }
    }
  };
  pump();
  try {
    await withTimeout(all, settings.timeoutMs, `fan-out workload on ${peer.system}`);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; sent ${sent}, received ${counts.join('/')}; ${failures.map((failure) => failure.message).join('; ')}`,
    );
  } finally {
    await producer.disconnect();
    for (const client of subscribers) await client.disconnect();
  }
  const elapsedMs = performance.now() - start;
  return (messages * settings.subscribers * 1000) / elapsedMs;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export async function run(args: string[]): Promise<void> {
  const settings = parseArgs(args);
  const results: BenchResult[] = [];
  const notes: string[] = [];
  const values = new Map<string, number>();
  const record = (bench: string, system: string, metric: string, value: number, unit: string): void => {
    const result = {
      bench,
      system,
      metric,
      value: value < 100 ? Math.round(value * 100) / 100 : Math.round(value),
      unit,
    };
    results.push(result);
    emit(result);
    values.set(`${bench}|${metric}|${system}`, value);
  };
  console.error(
    `stomp benchmark: ${settings.messages} messages of ${settings.bodyBytes} B, window ${settings.window}, ${settings.subscribers} fan-out subscribers`,
  );
  console.error(describeSuiteMachine());
  for (const name of settings.peers) {
    if (peerDefinitions[name] === undefined) {
      notes.push(`${name}: unknown peer`);
      continue;
    }
    let peer: Peer;
    try {
      peer = await startPeer(name);
    } catch (error) {
      const reason = `${name}: could not be started: ${(error as Error).message}`;
      notes.push(reason);
      console.error(reason);
      continue;
    }
    notes.push(`${peer.system} durability: ${peer.durability}`);
    notes.push(
      `${peer.system} ran at load average ${os
        .loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
    );
    console.error(`${peer.system} started on 127.0.0.1:${peer.port} (${peer.durability})`);
    for (const line of peer.description) console.error(line);
    try {
      const warmup = Math.max(2000, Math.floor(settings.messages / 4));
      await queueWorkload(peer, settings, warmup);
      const queueRuns: QueueResult[] = [];
      let cpuBeforeMs = peer.cpuMs();
      for (let run = 0; run < settings.repeat; run++) {
        queueRuns.push(await queueWorkload(peer, settings, settings.messages));
      }
      const queueCpuMs = peer.cpuMs() - cpuBeforeMs;
      const sends = queueRuns.map((result) => result.sendPerSecond);
      const consumed = queueRuns.map((result) => result.consumePerSecond);
      record('stomp.queue-persistent-1KiB', peer.system, 'receipted_sends_per_s', median(sends), 'msg/s');
      record('stomp.queue-persistent-1KiB', peer.system, 'consumed_per_s', median(consumed), 'msg/s');
      await fanoutWorkload(peer, settings, warmup);
      const fanoutRuns: number[] = [];
      cpuBeforeMs = peer.cpuMs();
      for (let run = 0; run < settings.repeat; run++) {
        fanoutRuns.push(await fanoutWorkload(peer, settings, settings.messages));
      }
      const fanoutCpuMs = peer.cpuMs() - cpuBeforeMs;
      // Broker CPU per message: the efficiency measure that does not depend on whether the
      // one client process, on this shared 2-core machine, could keep up.
      const sentMessages = settings.messages * settings.repeat;
      record(
        'stomp.queue-persistent-1KiB',
        peer.system,
        'broker_cpu_us_per_msg',
        (queueCpuMs * 1000) / sentMessages,
        'us',
      );
      record(
        `stomp.topic-fanout-x${settings.subscribers}`,
        peer.system,
        'broker_cpu_us_per_delivery',
        (fanoutCpuMs * 1000) / (sentMessages * settings.subscribers),
        'us',
      );
      record(
        `stomp.topic-fanout-x${settings.subscribers}`,
        peer.system,
        'deliveries_per_s',
        median(fanoutRuns),
        'msg/s',
      );
      console.error(
        `${peer.system} runs: queue receipted sends/s ${sends.map(Math.round).join(', ')}; fan-out deliveries/s ${fanoutRuns.map(Math.round).join(', ')}`,
      );
      const inspected = peer.inspect?.();
      if (inspected !== undefined) notes.push(`${peer.system}: ${inspected}`);
    } catch (error) {
      const reason = `${peer.system}: workload failed: ${(error as Error).message}`;
      notes.push(reason);
      console.error(reason);
    } finally {
      await peer.stop();
    }
  }
  for (const peer of ['activemq', 'rabbitmq']) {
    for (const [key, weirValue] of values) {
      const [bench, metric, system] = key.split('|');
      if (system !== 'weir' || bench === undefined || metric === undefined) continue;
      const peerValue = values.get(`${bench}|${metric}|${peer}`);
      if (peerValue === undefined || peerValue === 0) continue;
      // For CPU per message lower is better: the ratio is the peer's cost over Weir's.
      const lowerIsBetter = metric.startsWith('broker_cpu');
      const ratio = {
        bench,
        system: lowerIsBetter ? `${peer}/weir` : `weir/${peer}`,
        metric: `${metric}_ratio`,
        value: Math.round((lowerIsBetter ? peerValue / weirValue : weirValue / peerValue) * 100) / 100,
        unit: 'x',
      };
      results.push(ratio);
      emit(ratio);
    }
  }
  printTable(results);
  for (const note of notes) console.error(`note: ${note}`);
}
