// `weir bench`: producers and consumers in this process against a running broker.
//
// Without --confirm, producers publish fire-and-forget on a subject and every consumer holds
// a live subscription, so each consumer receives every message (fan-out). With --confirm, a
// stream captures the subject, producers wait for durable confirms (a window of them in
// flight per producer), and the consumers share one durable consumer (queue semantics, each
// message to one of them). Each body carries its send time, so consumers measure end-to-end
// latency. The stream and consumer made for the run are deleted after it.

import { performance } from 'node:perf_hooks';
import type { NetworkClient } from '../../client/network-client.js';
import type { ConnectOptions } from '../../client/options.js';
import type { ReceivedMessage, Subscription } from '../../client/types.js';
import { ErrorCode, isWeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';
import type { FsyncPolicy } from '../../storage/log.js';
import { connectOptions, handedToSocket } from './client-connection.js';
import { ProgressBar } from './progress.js';

export interface BenchFlags {
  readonly server: string;
  readonly user?: string;
  readonly password?: string;
  readonly subject: string;
  readonly messages: number;
  readonly size: number;
  readonly producers: number;
  readonly consumers: number;
  readonly confirm: boolean;
  readonly stream: string;
  readonly fsync?: FsyncPolicy;
  readonly progress: boolean;
}

export interface BenchResult {
  readonly published: number;
  readonly received: number;
  readonly expected: number;
  readonly publishSeconds: number;
  readonly totalSeconds: number;
  readonly publishRatePerSecond: number;
  readonly receiveRatePerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number } | undefined;
}

/** Confirmed publishes in flight per producer. */
const confirmWindow = 1024;
/** Latency samples kept (every message up to this many, then a stride). */
const latencySamplesMax = 1_000_000;
/** The run stops waiting for the rest once consumers have received nothing for this long. */
const idleTimeoutMs = 2_000;

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

export async function runBench(
  flags: BenchFlags,
  connect: (options: ConnectOptions) => Promise<NetworkClient>,
): Promise<BenchResult> {
  const options = connectOptions(flags, 'weir-bench');
  const admin = await connect(options);
  const consumerName = 'weir-bench';
  const clients: NetworkClient[] = [admin];
  try {
    if (flags.confirm) {
      await admin.admin.deleteStream(flags.stream).catch((error: unknown) => {
        if (!isWeirError(error, ErrorCode.StreamNotFound)) throw error;
      });
      await admin.admin.addStream({
        name: flags.stream,
        subjects: [flags.subject],
        ...(flags.fsync === undefined ? {} : { fsync: flags.fsync }),
      });
      if (flags.consumers > 0) {
        await admin.admin.addConsumer(flags.stream, {
          name: consumerName,
          durable: true,
          dispatch: 'shared',
          ackPolicy: 'explicit',
          deliverPolicy: { kind: 'all' },
        });
      }
    }

    const total = flags.producers * flags.messages;
    const expected = flags.confirm ? (flags.consumers > 0 ? total : 0) : total * flags.consumers;
    const stride = Math.max(1, Math.ceil(expected / latencySamplesMax));
    const latencies = new Float64Array(Math.ceil(expected / stride));
    let sampleCount = 0;
    let received = 0;
    let lastReceivedMs = 0;
    let allReceived: () => void = () => undefined;
    const everythingReceived = new Promise<void>((resolve) => (allReceived = resolve));
    if (expected === 0) allReceived();
    const progress = new ProgressBar({
      total: expected > 0 ? expected : total,
      label: expected > 0 ? 'received' : 'published',
      enabled: flags.progress && process.stderr.isTTY === true,
    });

    const onMessage = (message: ReceivedMessage): void => {
      if (received % stride === 0 && message.body.length >= 8 && sampleCount < latencies.length) {
        latencies[sampleCount++] = performance.now() - message.body.readDoubleLE(0);
      }
      received += 1;
      lastReceivedMs = performance.now();
      progress.tick();
      if (received === expected) allReceived();
    };

    const subscriptions: Subscription[] = [];
    for (let index = 0; index < flags.consumers; index++) {
      const client = await connect(options);
      clients.push(client);
      subscriptions.push(
        flags.confirm
          ? client.subscribe(
              { stream: flags.stream, consumer: consumerName },
              { callback: onMessage, prefetch: 4096 },
            )
          : client.subscribe(flags.subject, {
              callback: onMessage,
              bufferMessagesMax: Limits.liveBufferMessagesMax,
            }),
      );
    }
    // Subscribing is asynchronous; an answered request after it proves the broker has it,
    // since a connection's requests are handled in order.
    await Promise.all(clients.slice(1).map((client) => client.admin.listStreams()));
    const producers: NetworkClient[] = [];
    for (let index = 0; index < flags.producers; index++) {
      const client = await connect(options);
      clients.push(client);
      producers.push(client);
    }

    const template = Buffer.alloc(Math.max(flags.size, 0), 0x61);
    const started = performance.now();
    await Promise.all(
      producers.map(async (client) => {
        const inFlight = new Set<Promise<unknown>>();
        for (let index = 0; index < flags.messages; index++) {
          const body = Buffer.from(template);
          if (body.length >= 8) body.writeDoubleLE(performance.now(), 0);
          if (flags.confirm) {
            const confirmed: Promise<unknown> = client.publishConfirmed(flags.subject, body).finally(() => {
              inFlight.delete(confirmed);
            });
            inFlight.add(confirmed);
            if (inFlight.size >= confirmWindow) await Promise.race(inFlight);
          } else {
            if (!client.publish(flags.subject, body)) await client.drained();
          }
          if (expected === 0) progress.tick();
        }
        await Promise.all(inFlight);
        await handedToSocket(client);
      }),
    );
    const publishSeconds = (performance.now() - started) / 1000;
    // Wait for the rest while it keeps arriving; what has not come after a quiet spell was
    // dropped (live subscriptions shed load under their slow-consumer policy) or lost.
    lastReceivedMs = Math.max(lastReceivedMs, performance.now());
    let quiet: NodeJS.Timeout | undefined;
    const quietSpell = new Promise<void>((resolve) => {
      const check = (): void => {
        const idleMs = performance.now() - lastReceivedMs;
        if (idleMs >= idleTimeoutMs) resolve();
        else quiet = setTimeout(check, idleTimeoutMs - idleMs);
      };
      check();
    });
    await Promise.race([everythingReceived, quietSpell]);
    clearTimeout(quiet);
    const totalSeconds = ((received === expected ? performance.now() : lastReceivedMs) - started) / 1000;
    progress.stop();
    for (const subscription of subscriptions) await subscription.close();

    const sorted = latencies.slice(0, sampleCount).sort();
    return {
      published: total,
      received,
      expected,
      publishSeconds,
      totalSeconds,
      publishRatePerSecond: total / publishSeconds,
      receiveRatePerSecond: received / totalSeconds,
      latencyMs:
        sampleCount === 0
          ? undefined
          : {
              p50: percentile(sorted, 0.5),
              p99: percentile(sorted, 0.99),
              max: sorted[sorted.length - 1] ?? 0,
            },
    };
  } finally {
    if (flags.confirm) await admin.admin.deleteStream(flags.stream).catch(() => undefined);
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  }
}

function rate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatBenchResult(flags: BenchFlags, result: BenchResult): string {
  const megabytes = (result.publishRatePerSecond * flags.size) / 1e6;
  const lines = [
    `${flags.producers} producer(s) → ${flags.consumers} consumer(s), ${flags.size} B, ${flags.confirm ? 'confirmed' : 'fire-and-forget'}`,
    `published ${rate(result.published)} in ${result.publishSeconds.toFixed(2)} s: ${rate(result.publishRatePerSecond)} msgs/s, ${megabytes.toFixed(1)} MB/s`,
  ];
  if (result.expected > 0) {
    const missing = result.expected - result.received;
    lines.push(
      `received ${rate(result.received)} of ${rate(result.expected)} in ${result.totalSeconds.toFixed(2)} s: ${rate(result.receiveRatePerSecond)} msgs/s` +
        (missing > 0 ? ` (${rate(missing)} never arrived: dropped by the slow-consumer policy or lost)` : ''),
    );
  }
  if (result.latencyMs !== undefined) {
    const { p50, p99, max } = result.latencyMs;
    lines.push(`latency p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`);
  }
  return lines.join('\n');
}
