// Runs one workload against one running system over one protocol: forks the subscriber
// and publisher generators, samples the broker while they work, checks what arrived
// against what was confirmed, and turns it into metrics — or into a loud failure.
import type {
  GeneratorConfig,
  GeneratorProtocol,
  PublisherReport,
  SubscriberReport,
} from './generator-messages.js';
import { GeneratorHandle } from './generator-handle.js';
import { summarizeLatency } from './latency.js';
import { MetricName, OutcomeStatus, type WorkloadOutcome } from './outcome.js';
import { ResourceSampler } from './process-resources.js';
import { DeliveryGuarantee, type DeliveryPromise } from './sequence-checker.js';
import type { RunningSystem } from './system.js';
import {
  atMostOnceIdleTimeoutMs,
  subscriberIdleTimeoutMs,
  WorkloadKind,
  type Workload,
} from './workloads.js';

const inflightMax = 1000;
const drainTimeoutMs = 4 * 3600_000;
const generatorSaturatedPercent = 90;

/** Client ids stay unique within a run and within MQTT's 23 characters [MQTT-3.1.3-5]. */
let clientCounter = 0;

/** Topic or destination names for a workload's streams, unique to this run. */
export function destinationsFor(protocol: GeneratorProtocol, workload: Workload, runId: string): string[] {
  return Array.from({ length: workload.streams }, (_unused, index) => {
    if (protocol === 'mqtt') return `weir-bench/${runId}/${workload.name}/${index}`;
    // Fan-out is publish-subscribe (a topic); everything else is a queue per stream.
    const kind = workload.subscribers > 1 ? 'topic' : 'queue';
    return `/${kind}/weir-bench.${runId}.${workload.name}.${index}`;
  });
}

/**
 * MQTT QoS 1 and STOMP receipts with client-individual acks promise at least once; QoS 0 and
 * ack auto, at most once. Both keep order within a stream (MQTT 4.6; one consumer per queue).
 */
export function promiseFor(workload: Workload): DeliveryPromise {
  return {
    guarantee: workload.qos === 1 ? DeliveryGuarantee.AtLeastOnce : DeliveryGuarantee.AtMostOnce,
    ordered: true,
  };
}

export async function runWorkload(
  system: RunningSystem,
  protocol: GeneratorProtocol,
  workload: Workload,
  runId: string,
): Promise<WorkloadOutcome> {
  const port = system.ports[protocol];
  const base = { protocol, workload: workload.name, system: system.name };
  if (port === undefined) {
    return {
      ...base,
      status: OutcomeStatus.Unavailable,
      reason: `no ${protocol} listener`,
      metrics: {},
      notes: [],
    };
  }
  const backlog = workload.kind === WorkloadKind.Backlog;
  const config: GeneratorConfig = {
    role: 'publisher',
    host: '127.0.0.1',
    port,
    clientId: `wbp${runId}n${++clientCounter}`,
    destinations: destinationsFor(protocol, workload, runId),
    connections: 1,
    messageBytes: workload.messageBytes,
    qos: workload.qos,
    ratePerSecond: workload.ratePerSecond,
    durationMs: workload.durationMs,
    messageCount: workload.backlogMessages,
    inflightMax,
    persistentSession: backlog,
    deferConsume: backlog,
    username: system.username,
    password: system.password,
    stompSendHeaders: system.stompSendHeaders,
    stompSubscribeHeaders: system.stompSubscribeHeaders,
  };
  const generators: GeneratorHandle[] = [];
  // RSS over time matters for the backlog: sample often, but keep a long drain's chart small.
  const sampleIntervalMs =
    backlog && (workload.backlogMessages ?? 0) > 1_000_000 ? 1000 : backlog ? 100 : 250;
  const sampler = new ResourceSampler(system.process.pid, sampleIntervalMs);
  try {
    const subscriber = await GeneratorHandle.start(`${protocol} subscriber`, protocol, {
      ...config,
      role: 'subscriber',
      clientId: `wbs${runId}n${clientCounter}`,
      connections: workload.subscribers,
    });
    generators.push(subscriber);
    const publisher = await GeneratorHandle.start(`${protocol} publisher`, protocol, config);
    generators.push(publisher);
    const cpuBefore = system.process.sample().cpuSeconds;
    sampler.start();
    const published = await publisher.go(workload.durationMs + 120_000);
    const drainStartSeconds = sampler.elapsedSeconds();
    const received = await subscriber.expect(
      published.confirmedPerStream,
      promiseFor(workload),
      workload.qos === 1 ? subscriberIdleTimeoutMs : atMostOnceIdleTimeoutMs,
      backlog ? drainTimeoutMs : workload.durationMs + 600_000,
    );
    sampler.stop();
    const brokerCpuSeconds = system.process.sample().cpuSeconds - cpuBefore;
    const violations = [...new Set(received.checks.flatMap((check) => check.violations))];
    if (published.unconfirmed > 0) {
      violations.push(`${published.unconfirmed} messages sent were never confirmed by the broker`);
    }
    if (!system.process.alive) violations.push(`the broker ${system.process.describeExit()}`);
    if (violations.length > 0) {
      return { ...base, status: OutcomeStatus.Failed, reason: violations.join('; '), metrics: {}, notes: [] };
    }
    return {
      ...base,
      status: OutcomeStatus.Ok,
      ...measure(workload, published, received, brokerCpuSeconds, sampler.peakRssBytes),
      ...(backlog ? { rssSeries: sampler.points, drainStartSeconds } : {}),
    };
  } catch (error) {
    sampler.stop();
    const reason = (error as Error).message;
    const brokerNote = system.process.alive ? '' : ` (the broker ${system.process.describeExit()})`;
    return {
      ...base,
      status: OutcomeStatus.Failed,
      reason: `${reason}${brokerNote}`,
      metrics: {},
      notes: [],
    };
  } finally {
    for (const generator of generators) generator.kill();
  }
}

function measure(
  workload: Workload,
  published: PublisherReport,
  received: SubscriberReport,
  brokerCpuSeconds: number,
  peakRssBytes: number,
): Pick<WorkloadOutcome, 'metrics' | 'latencyCdf' | 'notes'> {
  const notes: string[] = [];
  const distinct = received.checks.reduce((sum, check) => sum + check.received, 0);
  const duplicates = received.checks.reduce((sum, check) => sum + check.duplicates, 0);
  const backlog = workload.kind === WorkloadKind.Backlog;
  // Throughput is end to end: from the first send to the last delivery. For a backlog it
  // is the drain: from the consumers' return to the last delivery.
  const fromNs = backlog ? received.consumeStartNs : published.startNs;
  const seconds = Math.max((received.lastNs - fromNs) / 1e9, 1e-9);
  const messagesPerSecond = distinct / seconds;
  const latency = summarizeLatency([received.latency]);
  const generatorCpuPercent = Math.max(
    (100 * published.cpuSeconds) / Math.max(published.wallSeconds, 1e-9),
    (100 * received.cpuSeconds) / Math.max(received.wallSeconds, 1e-9),
  );
  if (generatorCpuPercent >= generatorSaturatedPercent) {
    notes.push(
      `a load generator used ${generatorCpuPercent.toFixed(0)}% of a core: it may be the bottleneck`,
    );
  }
  if (duplicates > 0) notes.push(`${duplicates} duplicate deliveries (allowed at least once)`);
  const lost = received.checks.reduce((sum, check) => sum + check.lost, 0);
  if (lost > 0) {
    const sent = published.confirmedPerStream.reduce((sum, count) => sum + count, 0) * received.checks.length;
    notes.push(
      `${lost.toLocaleString('en-US')} of ${sent.toLocaleString('en-US')} deliveries lost (allowed at most once)`,
    );
  }
  const redeliveredLate = received.checks.reduce((sum, check) => sum + check.redeliveredLate, 0);
  if (redeliveredLate > 0) {
    notes.push(
      `${redeliveredLate} messages arrived only as redeliveries, after later ones: the first delivery was dropped or held`,
    );
  }
  const confirmed = published.confirmedPerStream.reduce((sum, count) => sum + count, 0);
  if (backlog && workload.backlogMessages !== undefined && confirmed < workload.backlogMessages) {
    notes.push(
      `only ${confirmed.toLocaleString('en-US')} of ${workload.backlogMessages.toLocaleString('en-US')} messages were confirmed within ${workload.durationMs / 1000} s`,
    );
  }
  const metrics: Partial<Record<MetricName, number>> = {
    [MetricName.MessagesPerSecond]: messagesPerSecond,
    [MetricName.MegabytesPerSecond]: (messagesPerSecond * workload.messageBytes) / 1e6,
    [MetricName.CpuSeconds]: brokerCpuSeconds,
    [MetricName.RssMb]: peakRssBytes / 1048576,
    [MetricName.GeneratorCpuPercent]: generatorCpuPercent,
  };
  if (latency !== undefined && !backlog) {
    metrics[MetricName.P50Ms] = latency.p50Ms;
    metrics[MetricName.P99Ms] = latency.p99Ms;
    metrics[MetricName.P999Ms] = latency.p999Ms;
  }
  if (backlog) {
    metrics[MetricName.BacklogMessages] = confirmed;
    metrics[MetricName.AccumulateMessagesPerSecond] = confirmed / Math.max(published.wallSeconds, 1e-9);
  }
  return {
    metrics,
    ...(latency !== undefined && workload.kind === WorkloadKind.Latency ? { latencyCdf: latency.cdf } : {}),
    notes,
  };
}
