// The harness's workloads, shaped after the OpenMessaging Benchmark: one topic with one
// partition at max rate, sixteen partitions, small messages, fan-out, latency at a fixed
// rate, and peak shaving (a backlog that builds while consumers are away, then drains).
// For MQTT a "partition" is a topic of its own; for STOMP, a queue of its own.

export const WorkloadKind = { Throughput: 'throughput', Latency: 'latency', Backlog: 'backlog' } as const;
export type WorkloadKind = (typeof WorkloadKind)[keyof typeof WorkloadKind];

export interface Workload {
  readonly name: string;
  readonly title: string;
  readonly kind: WorkloadKind;
  /** Topics (MQTT) or queues (STOMP) the messages are spread over, round robin. */
  readonly streams: number;
  readonly messageBytes: number;
  /**
   * 1: confirmed sends and acked deliveries, at least once (MQTT QoS 1, STOMP receipts and
   * client-individual acks); 0: fire and forget, at most once (MQTT QoS 0, STOMP without
   * receipts, ack auto).
   */
  readonly qos: 0 | 1;
  /** Subscriber connections, each receiving every message (fan-out when > 1). */
  readonly subscribers: number;
  /** Fixed publish rate; undefined for max rate. */
  readonly ratePerSecond: number | undefined;
  /** How long the publisher sends (for a backlog: the most time it may take to build it). */
  readonly durationMs: number;
  /** Backlog only: messages to accumulate while no consumer is connected. */
  readonly backlogMessages: number | undefined;
}

/**
 * A subscriber gives up when nothing new arrived for this long: longer than the 30 s ack
 * timeouts after which brokers redeliver, so a late redelivery counts instead of a loss.
 */
export const subscriberIdleTimeoutMs = 40_000;

/** At most once nothing is redelivered: a short quiet period ends the run. */
export const atMostOnceIdleTimeoutMs = 3_000;

export const Profile = { Quick: 'quick', Full: 'full' } as const;
export type Profile = (typeof Profile)[keyof typeof Profile];

export function workloadsFor(profile: Profile): Workload[] {
  const full = profile === Profile.Full;
  const seconds = (quick: number, longer: number): number => (full ? longer : quick) * 1000;
  const fanOut = full ? 16 : 4;
  const fixedRate = full ? 5000 : 1000;
  const backlog = full ? 10_000_000 : 50_000;
  return [
    {
      name: 'max-rate-1kib',
      title: '1 topic, 1 partition, 1 KiB, max rate',
      kind: WorkloadKind.Throughput,
      streams: 1,
      messageBytes: 1024,
      qos: 1,
      subscribers: 1,
      ratePerSecond: undefined,
      durationMs: seconds(3, 60),
      backlogMessages: undefined,
    },
    {
      name: 'partitions-16-1kib',
      title: '1 topic, 16 partitions (16 topics or queues), 1 KiB, max rate',
      kind: WorkloadKind.Throughput,
      streams: 16,
      messageBytes: 1024,
      qos: 1,
      subscribers: 1,
      ratePerSecond: undefined,
      durationMs: seconds(3, 60),
      backlogMessages: undefined,
    },
    {
      name: 'max-rate-100b',
      title: '1 topic, 1 partition, 100 B, max rate',
      kind: WorkloadKind.Throughput,
      streams: 1,
      messageBytes: 100,
      qos: 1,
      subscribers: 1,
      ratePerSecond: undefined,
      durationMs: seconds(3, 60),
      backlogMessages: undefined,
    },
    {
      name: 'max-rate-1kib-qos0',
      title: '1 topic, 1 partition, 1 KiB, max rate, fire and forget (at most once)',
      kind: WorkloadKind.Throughput,
      streams: 1,
      messageBytes: 1024,
      qos: 0,
      subscribers: 1,
      ratePerSecond: undefined,
      durationMs: seconds(3, 60),
      backlogMessages: undefined,
    },
    {
      name: `fan-out-1-to-${fanOut}`,
      title: `fan-out: 1 publisher to ${fanOut} subscribers, 1 KiB, max rate`,
      kind: WorkloadKind.Throughput,
      streams: 1,
      messageBytes: 1024,
      qos: 1,
      subscribers: fanOut,
      ratePerSecond: undefined,
      durationMs: seconds(3, 60),
      backlogMessages: undefined,
    },
    {
      name: `latency-${fixedRate}-per-s`,
      title: `latency at a fixed rate of ${fixedRate.toLocaleString('en-US')} msg/s, 1 KiB`,
      kind: WorkloadKind.Latency,
      streams: 1,
      messageBytes: 1024,
      qos: 1,
      subscribers: 1,
      ratePerSecond: fixedRate,
      durationMs: seconds(5, 120),
      backlogMessages: undefined,
    },
    {
      name: 'backlog-drain',
      title: `peak shaving: ${backlog.toLocaleString('en-US')} × 1 KiB accumulate with consumers stopped, then drain`,
      kind: WorkloadKind.Backlog,
      streams: 1,
      messageBytes: 1024,
      qos: 1,
      subscribers: 1,
      ratePerSecond: undefined,
      durationMs: seconds(20, 3600),
      backlogMessages: backlog,
    },
  ];
}
