// `npm run bench -- mqtt [--seconds N] [--idle N] [--rate N[,N…]]
//                        [--systems weir,mosquitto,aedes,bare-socket]
//                        [--workloads fan-in,fan-out,qos1,latency,idle]`
//
// Weir, Mosquitto and Aedes under the same load, in one run. Each broker runs in its own
// process (Weir as `weir serve`, Mosquitto from the Debian package, Aedes from npm). The load
// generator is a third process that speaks MQTT 3.1.1 over raw sockets with pre-encoded
// packets and reports its own CPU, so that it is visibly not the bottleneck, and the broker's
// (its process group's, from /proc). Workloads:
//
//   fan-in     QoS 0, 10 publishers → 1 subscriber: messages delivered per second
//   fan-out    QoS 0, 1 publisher → 100 subscribers: deliveries per second
//   qos1       QoS 1 both ways, publisher window 100: messages per second end to end
//   latency    QoS 0 at a fixed rate: p50 / p99 / max publish → delivery latency; `--rate`
//              takes a list (2000,10000,50000), each rate on a fresh broker (mqtt.latency-<rate>)
//   idle       10,000 idle connections: broker RSS per connection. The first tenth (at most
//              1,000) warm the broker up; the figure is the RSS growth from then to all of them,
//              divided by the connections added, each RSS read after a full garbage collection
//              in the Node.js systems (gc-on-signal.ts, the same for each of them). `rss per
//              connection, from start` is the growth from the idle broker, divided by all.
//
// `bare-socket` (bench/harness/peers/bare-socket.ts) is not a broker but the floor: a Node.js
// process that only answers CONNECT and holds the socket. It runs the idle workload only.
//
// The brokers are the harness's systems (bench/harness/peers/), each started fresh for every
// workload on its own loopback port with its own data directory and stopped by its process
// group. This file is also the entry point of the generator processes it spawns (selected by
// WEIR_MQTT_BENCH_ROLE).

import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  encodeConnect,
  encodePublishTemplate,
  encodeSubscribe,
  type MqttQos,
} from '../harness/mqtt-frames.js';
import { aedes } from '../harness/peers/aedes.js';
import { bareSocket } from '../harness/peers/bare-socket.js';
import { mosquittoSystem } from '../harness/peers/mosquitto.js';
import { weirSystem } from '../harness/peers/weir.js';
import { readVmRssBytes, sampleProcessGroup } from '../harness/process-resources.js';
import { describeSuiteMachine, describeSuiteSystem, startSuiteSystem } from '../harness/suite-systems.js';
import type { RunningSystem, SystemDefinition } from '../harness/system.js';
import { emit, printTable } from '../report.js';
import type { BenchResult } from '../report.js';

const thisFile = fileURLToPath(import.meta.url);
const roleVariable = 'WEIR_MQTT_BENCH_ROLE';
const payloadBytes = 64;
const workloads = ['fan-in', 'fan-out', 'qos1', 'latency', 'idle'] as const;

interface Options {
  workloads: string[];
  seconds: number;
  idleConnections: number;
  systems: string[];
  latencyRates: number[];
  /** The rate of one latency run (set per run from latencyRates). */
  latencyRate: number;
}

function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    workloads: [...workloads],
    seconds: 3,
    idleConnections: 10_000,
    systems: ['weir', 'mosquitto', 'aedes'],
    latencyRates: [2000],
    latencyRate: 2000,
  };
  for (let index = 0; index < args.length; index++) {
    const name = args[index];
    const value = args[index + 1] ?? '';
    if (name === '--seconds') options.seconds = Number(value);
    else if (name === '--idle') options.idleConnections = Number(value);
    else if (name === '--systems') options.systems = value.split(',');
    else if (name === '--workloads') options.workloads = value.split(',');
    else if (name === '--rate') options.latencyRates = value.split(',').map(Number);
    else throw new Error(`unknown option ${String(name)}`);
    index++;
  }
  return options;
}

// ---------------------------------------------------------------------------------------
// Systems: the harness's (bench/harness/peers/), tuned as this suite measures them.

const systemDefinitions: Readonly<Record<string, SystemDefinition>> = {
  // MQTT's adapter with its own defaults, and room for the idle workload's connections.
  weir: weirSystem({
    protocols: ['mqtt'],
    onlyMeasured: true,
    protocolOptions: { mqtt: {} },
    limits: { connectionsMax: 1_000_000, frameBytesMax: 1024 * 1024, messageBytesMax: 1024 * 1024 },
    settings: ['weir serve, MQTT only, adapter defaults; connectionsMax 1,000,000 for the idle workload'],
  }),
  mosquitto: mosquittoSystem({
    config: ['max_connections -1'],
    settings: ['max_connections -1 (unlimited): room for the idle workload'],
  }),
  aedes,
  'bare-socket': bareSocket,
};

/** Systems that run in Node.js: the idle workload samples their RSS after a full GC. */
const nodeSystems = new Set(['weir', 'aedes', 'bare-socket']);
/** Workloads a system that is not a broker runs. */
const floorWorkloads: Readonly<Record<string, readonly string[]>> = { 'bare-socket': ['idle'] };

const gcPreload = fileURLToPath(new URL('../harness/gc-on-signal.js', import.meta.url));

/** Starts `name` for `workload`; a Node.js system starts with GC on SIGUSR2 for the idle workload. */
async function startSystemFor(name: string, workload: string): Promise<RunningSystem> {
  if (workload !== 'idle' || !nodeSystems.has(name)) return startSystem(name);
  const previous = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${previous ?? ''} --expose-gc --import ${gcPreload}`.trim();
  try {
    return await startSystem(name);
  } finally {
    if (previous === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = previous;
  }
}

async function startSystem(name: string): Promise<RunningSystem> {
  const definition = systemDefinitions[name];
  if (definition === undefined) throw new Error(`unknown system ${name}`);
  return startSuiteSystem(definition, 'mqtt');
}

function mqttPort(system: RunningSystem): number {
  const port = system.ports.mqtt;
  if (port === undefined) throw new Error(`${system.name} serves no MQTT`);
  return port;
}

// ---------------------------------------------------------------------------------------
// The orchestrator.

interface GeneratorLine {
  readonly workload: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}

function runGenerator(peer: RunningSystem, options: Options, workload: string): Promise<GeneratorLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [thisFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        [roleVariable]: 'generator',
        WEIR_MQTT_BENCH_GC_SIGNAL: workload === 'idle' && nodeSystems.has(peer.name) ? '1' : '0',
        WEIR_MQTT_BENCH_WORKLOAD: workload,
        WEIR_MQTT_BENCH_PORT: String(mqttPort(peer)),
        WEIR_MQTT_BENCH_PID: String(peer.process.pid),
        WEIR_MQTT_BENCH_OPTIONS: JSON.stringify(options),
      },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator for ${peer.name} exited with ${String(code)}`));
      else
        resolve(
          output
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as GeneratorLine),
        );
    });
  });
}

export async function run(args: string[]): Promise<void> {
  const options = parseArgs(args);
  const results: BenchResult[] = [];
  process.stderr.write(`${describeSuiteMachine()}\n`);
  for (const system of options.systems) {
    // A fresh broker process per workload: one workload's garbage or crash does not reach the
    // next, and the idle workload measures RSS from a clean start.
    let described = false;
    const runs = options.workloads
      .filter((workload) => floorWorkloads[system]?.includes(workload) ?? true)
      .flatMap((workload) =>
        workload === 'latency'
          ? options.latencyRates.map((rate) => ({ workload, rate, bench: `mqtt.latency-${rate}` }))
          : [{ workload, rate: options.latencyRate, bench: `mqtt.${workload}` }],
      );
    for (const { workload, rate, bench } of runs) {
      const peer = await startSystemFor(system, workload);
      if (!described) {
        described = true;
        for (const line of describeSuiteSystem(peer)) process.stderr.write(`${line}\n`);
      }
      let lines: GeneratorLine[];
      try {
        lines = await runGenerator(peer, { ...options, latencyRate: rate }, workload);
      } catch (error) {
        // A peer that falls over under a workload is reported as such, not as a number.
        const crashed = !peer.process.alive;
        process.stderr.write(
          `${system} ${workload}: ${crashed ? `broker crashed\n${peer.process.logTail()}` : String(error)}\n`,
        );
        lines = [
          { workload, metric: crashed ? 'broker crashed' : 'generator failed', value: 1, unit: 'count' },
        ];
      } finally {
        await peer.stop();
      }
      for (const line of lines) {
        const result: BenchResult = {
          bench,
          system,
          metric: line.metric,
          value: line.value,
          unit: line.unit,
        };
        emit(result);
        results.push(result);
      }
    }
  }
  // Ratios: Weir against each peer, for every metric both report.
  const weir = results.filter((result) => result.system === 'weir');
  for (const peerName of options.systems.filter((name) => name !== 'weir')) {
    for (const mine of weir) {
      if (mine.metric.startsWith('generator') || mine.metric.startsWith('broker ')) continue;
      const theirs = results.find(
        (result) =>
          result.system === peerName && result.bench === mine.bench && result.metric === mine.metric,
      );
      if (theirs === undefined || theirs.value === 0) continue;
      const ratio: BenchResult = {
        bench: mine.bench,
        system: `weir/${peerName}`,
        metric: mine.metric,
        value: Math.round((mine.value / theirs.value) * 100) / 100,
        unit: 'ratio',
      };
      emit(ratio);
      results.push(ratio);
    }
  }
  printTable(results);
}

// ---------------------------------------------------------------------------------------
// The load generator: raw MQTT 3.1.1, packets encoded by the harness's mqtt-frames.

function connectPacket(clientId: string): Buffer {
  return encodeConnect({ clientId, cleanSession: true, keepAliveSeconds: 0 });
}

function subscribePacket(topic: string, qos: MqttQos): Buffer {
  return encodeSubscribe(1, [{ topic, qos }]);
}

function publishPacket(topic: string, payload: Buffer, qos: MqttQos, packetId: number): Buffer {
  const template = encodePublishTemplate(topic, qos, payload);
  if (template.packetIdOffset !== undefined) template.frame.writeUInt16BE(packetId, template.packetIdOffset);
  return template.frame;
}

interface Frame {
  readonly type: number;
  readonly bytes: Buffer;
  readonly bodyStart: number;
}

/** A raw MQTT connection: frames counted by type, with an optional PUBLISH hook. */
class Connection {
  readonly socket: net.Socket;
  #pending: Buffer | undefined;
  publishes = 0;
  onFrame: ((frame: Frame) => void) | undefined;
  #connack: (() => void) | undefined;
  #suback: (() => void) | undefined;
  /** Replies queued while reading a chunk, written together after it. */
  #replies: Buffer[] = [];

  reply(bytes: Buffer): void {
    this.#replies.push(bytes);
  }

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('error', () => undefined);
  }

  static open(port: number, clientId: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const connection = new Connection(socket);
      socket.once('error', reject);
      connection.#connack = () => resolve(connection);
      socket.once('connect', () => socket.write(connectPacket(clientId)));
    });
  }

  subscribe(topic: string, qos: MqttQos): Promise<void> {
    return new Promise((resolve) => {
      this.#suback = resolve;
      this.socket.write(subscribePacket(topic, qos));
    });
  }

  #read(chunk: Buffer): void {
    let buffer = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    let position = 0;
    while (position + 2 <= buffer.length) {
      let length = 0;
      let multiplier = 1;
      let cursor = position + 1;
      let complete = false;
      while (cursor < buffer.length) {
        const byte = buffer[cursor++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || cursor + length > buffer.length) break;
      const type = (buffer[position] as number) >> 4;
      if (type === 3) this.publishes++;
      if (type === 2) this.#connack?.();
      if (type === 9) this.#suback?.();
      if (this.onFrame !== undefined)
        this.onFrame({
          type,
          bytes: buffer.subarray(position, cursor + length),
          bodyStart: cursor - position,
        });
      position = cursor + length;
    }
    if (position < buffer.length) this.#pending = Buffer.from(buffer.subarray(position));
    buffer = Buffer.alloc(0);
    if (this.#replies.length > 0) {
      this.socket.write(
        this.#replies.length === 1 ? (this.#replies[0] as Buffer) : Buffer.concat(this.#replies),
      );
      this.#replies = [];
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Writes `batch` again and again while the socket takes it, until stopped: one write per
 * turn of the event loop (or per 'drain'), so the generator keeps reading its subscribers.
 */
function pump(connection: Connection, batch: Buffer): () => void {
  let running = true;
  const write = (): void => {
    if (!running) return;
    if (connection.socket.write(batch)) setImmediate(write);
    else connection.socket.once('drain', write);
  };
  write();
  return () => {
    running = false;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds of the broker's process group so far; throws once the broker has exited. */
function brokerCpuSeconds(pid: number): number {
  readRssBytes(pid);
  return sampleProcessGroup(pid).cpuSeconds;
}

/** The broker's resident memory; throws once it has exited. */
function readRssBytes(pid: number): number {
  const bytes = readVmRssBytes(pid);
  if (bytes === undefined) throw new Error(`the broker (pid ${pid}) has exited`);
  return bytes;
}

async function measured(
  workload: string,
  brokerPid: number,
  seconds: number,
  body: () => Promise<GeneratorLine[]>,
): Promise<void> {
  const cpuBefore = process.cpuUsage();
  const brokerBefore = brokerCpuSeconds(brokerPid);
  const startedMs = Date.now();
  const lines = await body();
  const wallMs = Date.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  const brokerSeconds = brokerCpuSeconds(brokerPid) - brokerBefore;
  lines.push({
    workload,
    metric: 'generator cpu',
    value: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    unit: '%',
  });
  lines.push({
    workload,
    metric: 'broker cpu',
    value: Math.round(((brokerSeconds * 1000) / wallMs) * 100),
    unit: '%',
  });
  void seconds;
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function generate(port: number, brokerPid: number, options: Options, workload: string): Promise<void> {
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const seconds = options.seconds;
  let clientNumber = 0;
  const open = (): Promise<Connection> => Connection.open(port, `bench-${process.pid}-${clientNumber++}`);

  // Fan-in: 10 publishers → 1 subscriber, QoS 0.
  if (workload === 'fan-in')
    await measured('fan-in', brokerPid, seconds, async () => {
      const subscriber = await open();
      await subscriber.subscribe('bench/in/+', 0);
      const publishers = await Promise.all(Array.from({ length: 10 }, () => open()));
      const stops = publishers.map((publisher, index) =>
        pump(
          publisher,
          Buffer.concat(Array.from({ length: 100 }, () => publishPacket(`bench/in/${index}`, payload, 0, 0))),
        ),
      );
      await sleep(500);
      const from = subscriber.publishes;
      await sleep(seconds * 1000);
      const delivered = subscriber.publishes - from;
      for (const stop of stops) stop();
      for (const connection of [subscriber, ...publishers]) connection.close();
      await sleep(300);
      return [
        { workload: 'fan-in', metric: 'delivered', value: Math.round(delivered / seconds), unit: 'msg/s' },
      ];
    });

  // Fan-out: 1 publisher → 100 subscribers, QoS 0.
  if (workload === 'fan-out')
    await measured('fan-out', brokerPid, seconds, async () => {
      const subscribers = await Promise.all(Array.from({ length: 100 }, () => open()));
      await Promise.all(subscribers.map((subscriber) => subscriber.subscribe('bench/out', 0)));
      const publisher = await open();
      const stop = pump(
        publisher,
        Buffer.concat(Array.from({ length: 20 }, () => publishPacket('bench/out', payload, 0, 0))),
      );
      const total = (): number => subscribers.reduce((sum, subscriber) => sum + subscriber.publishes, 0);
      await sleep(500);
      const from = total();
      await sleep(seconds * 1000);
      const delivered = total() - from;
      stop();
      for (const connection of [publisher, ...subscribers]) connection.close();
      await sleep(300);
      return [
        { workload: 'fan-out', metric: 'delivered', value: Math.round(delivered / seconds), unit: 'msg/s' },
      ];
    });

  // QoS 1 round trip: publisher window 100, subscriber acknowledges each delivery.
  if (workload === 'qos1')
    await measured('qos1', brokerPid, seconds, async () => {
      const subscriber = await open();
      await subscriber.subscribe('bench/q1', 1);
      subscriber.onFrame = (frame) => {
        if (frame.type !== 3) return;
        const topicLength = frame.bytes.readUInt16BE(frame.bodyStart);
        const idAt = frame.bodyStart + 2 + topicLength;
        subscriber.reply(
          Buffer.from([0x40, 0x02, frame.bytes[idAt] as number, frame.bytes[idAt + 1] as number]),
        );
      };
      const publisher = await open();
      const window = 100;
      let nextId = 1;
      let acked = 0;
      let running = true;
      const packets: Buffer[] = Array.from({ length: 65_536 }, () => Buffer.alloc(0));
      const send = (): void => {
        const id = nextId;
        nextId = nextId === 65_535 ? 1 : nextId + 1;
        let bytes = packets[id] as Buffer;
        if (bytes.length === 0) {
          bytes = publishPacket('bench/q1', payload, 1, id);
          packets[id] = bytes;
        }
        if (inFrame) publisher.reply(bytes);
        else publisher.socket.write(bytes);
      };
      let inFrame = false;
      publisher.onFrame = (frame) => {
        if (frame.type !== 4) return;
        acked++;
        inFrame = true;
        if (running) send();
        inFrame = false;
      };
      for (let index = 0; index < window; index++) send();
      await sleep(500);
      const ackedFrom = acked;
      const deliveredFrom = subscriber.publishes;
      await sleep(seconds * 1000);
      const delivered = subscriber.publishes - deliveredFrom;
      const confirmed = acked - ackedFrom;
      running = false;
      publisher.close();
      subscriber.close();
      await sleep(300);
      return [
        { workload: 'qos1', metric: 'delivered', value: Math.round(delivered / seconds), unit: 'msg/s' },
        { workload: 'qos1', metric: 'acknowledged', value: Math.round(confirmed / seconds), unit: 'msg/s' },
      ];
    });

  // Latency at a fixed rate, QoS 0: the payload carries the send time.
  if (workload === 'latency')
    await measured('latency', brokerPid, seconds, async () => {
      const subscriber = await open();
      await subscriber.subscribe('bench/lat', 0);
      const latenciesUs: number[] = [];
      // The first half second warms the broker up (JIT, buffers) and is not measured.
      const measureFromMs = Date.now() + 500;
      subscriber.onFrame = (frame) => {
        if (frame.type !== 3 || Date.now() < measureFromMs) return;
        const topicLength = frame.bytes.readUInt16BE(frame.bodyStart);
        const sentNs = frame.bytes.readBigUInt64BE(frame.bodyStart + 2 + topicLength);
        latenciesUs.push(Number(process.hrtime.bigint() - sentNs) / 1000);
      };
      const publisher = await open();
      const perTick = Math.max(1, Math.round(options.latencyRate / 100));
      const body = Buffer.alloc(payloadBytes);
      const endAt = measureFromMs + seconds * 1000;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (Date.now() >= endAt) {
            clearInterval(timer);
            resolve();
            return;
          }
          for (let index = 0; index < perTick; index++) {
            body.writeBigUInt64BE(process.hrtime.bigint(), 0);
            publisher.socket.write(publishPacket('bench/lat', body, 0, 0));
          }
        }, 10);
      });
      await sleep(300);
      publisher.close();
      subscriber.close();
      latenciesUs.sort((a, b) => a - b);
      const at = (quantile: number): number =>
        Math.round(
          latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(quantile * latenciesUs.length))] ?? 0,
        );
      return [
        {
          workload: 'latency',
          metric: 'rate',
          value: Math.round(latenciesUs.length / seconds),
          unit: 'msg/s',
        },
        { workload: 'latency', metric: 'p50', value: at(0.5), unit: 'µs' },
        { workload: 'latency', metric: 'p99', value: at(0.99), unit: 'µs' },
        {
          workload: 'latency',
          metric: 'max',
          value: Math.round(latenciesUs[latenciesUs.length - 1] ?? 0),
          unit: 'µs',
        },
      ];
    });

  // Idle connections: broker RSS per connection, after a warm-up, from settled samples.
  if (workload === 'idle')
    await measured('idle', brokerPid, seconds, async () => {
      const collectsGarbage = process.env.WEIR_MQTT_BENCH_GC_SIGNAL === '1';
      const settledRss = async (): Promise<number> => {
        await sleep(1000);
        if (collectsGarbage) {
          process.kill(brokerPid, 'SIGUSR2');
          await sleep(500);
        }
        return readRssBytes(brokerPid);
      };
      const connections: Connection[] = [];
      const openUntil = async (count: number): Promise<void> => {
        while (connections.length < count) {
          const batch = Math.min(200, count - connections.length);
          connections.push(...(await Promise.all(Array.from({ length: batch }, () => open()))));
        }
      };
      const target = options.idleConnections;
      const warmUp = Math.min(1000, Math.floor(target / 10));
      const started = await settledRss();
      await openUntil(warmUp);
      const warm = await settledRss();
      await openUntil(target);
      const after = await settledRss();
      for (const connection of connections) connection.close();
      await sleep(500);
      return [
        { workload: 'idle', metric: 'connections', value: connections.length, unit: 'count' },
        {
          workload: 'idle',
          metric: 'rss per connection',
          value: Math.round((after - warm) / (target - warmUp)),
          unit: 'bytes',
        },
        {
          workload: 'idle',
          metric: 'rss per connection, from start',
          value: Math.round((after - started) / target),
          unit: 'bytes',
        },
      ];
    });
}

// ---------------------------------------------------------------------------------------
// Role dispatch when spawned.

const role = process.env[roleVariable];
if (role !== undefined && process.argv[1] === thisFile) {
  const port = Number(process.env.WEIR_MQTT_BENCH_PORT);
  if (role === 'generator') {
    const options = JSON.parse(process.env.WEIR_MQTT_BENCH_OPTIONS ?? '{}') as Options;
    await generate(
      port,
      Number(process.env.WEIR_MQTT_BENCH_PID),
      options,
      process.env.WEIR_MQTT_BENCH_WORKLOAD ?? '',
    );
    process.exit(0);
  } else {
    throw new Error(`unknown role ${role}`);
  }
}
