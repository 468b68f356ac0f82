// What one run of the harness produced: the record the report is generated from.
import type { GeneratorProtocol } from './generator-messages.js';
import type { Durability } from './system.js';
import type { WorkloadKind } from './workloads.js';

export const MetricName = {
  MessagesPerSecond: 'msgs_per_s',
  MegabytesPerSecond: 'mb_per_s',
  P50Ms: 'p50_ms',
  P99Ms: 'p99_ms',
  P999Ms: 'p999_ms',
  CpuSeconds: 'cpu_s',
  RssMb: 'rss_mb',
  GeneratorCpuPercent: 'generator_cpu_pct',
  BacklogMessages: 'backlog_msgs',
  AccumulateMessagesPerSecond: 'accumulate_msgs_per_s',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export const metricUnits: Readonly<Record<MetricName, string>> = {
  msgs_per_s: 'msg/s',
  mb_per_s: 'MB/s',
  p50_ms: 'ms',
  p99_ms: 'ms',
  p999_ms: 'ms',
  cpu_s: 's',
  rss_mb: 'MiB',
  generator_cpu_pct: '%',
  backlog_msgs: 'msg',
  accumulate_msgs_per_s: 'msg/s',
};

export const OutcomeStatus = { Ok: 'ok', Failed: 'failed', Unavailable: 'unavailable' } as const;
export type OutcomeStatus = (typeof OutcomeStatus)[keyof typeof OutcomeStatus];

export interface WorkloadOutcome {
  readonly protocol: GeneratorProtocol;
  readonly workload: string;
  readonly system: string;
  readonly status: OutcomeStatus;
  /** Why it failed or could not run. */
  readonly reason?: string;
  readonly metrics: Readonly<Partial<Record<MetricName, number>>>;
  readonly latencyCdf?: readonly { readonly percentile: number; readonly latencyMs: number }[];
  readonly rssSeries?: readonly { readonly seconds: number; readonly rssMb: number }[];
  /** Backlog: when the consumers came back, on the rssSeries time axis. */
  readonly drainStartSeconds?: number;
  readonly notes: readonly string[];
}

export interface SystemRecord {
  readonly name: string;
  readonly version: string;
  readonly protocols: readonly GeneratorProtocol[];
  readonly durability: Readonly<Partial<Record<GeneratorProtocol, Durability>>>;
  readonly settings: readonly string[];
  /** Set when the system could not be run at all. */
  readonly unavailableReason?: string;
}

export interface MachineRecord {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly disk: string;
  /** 1-minute load average when the run started and when it ended: other work on the machine. */
  readonly loadAverageStart?: number;
  readonly loadAverageEnd?: number;
}

export interface WorkloadRecord {
  readonly name: string;
  readonly title: string;
  readonly kind: WorkloadKind;
  readonly messageBytes: number;
}

export interface RunRecord {
  readonly profile: string;
  /** Said by whoever ran it (`--note`), shown at the top of the report. */
  readonly notes?: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineRecord;
  readonly workloads: readonly WorkloadRecord[];
  readonly protocols: readonly GeneratorProtocol[];
  readonly systems: readonly SystemRecord[];
  readonly outcomes: readonly WorkloadOutcome[];
}
