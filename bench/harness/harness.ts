// `npm run bench` (quick profile) and `npm run bench -- --full`: every workload against
// Weir and every peer that can run here, one system at a time, then the report.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, printTable, type BenchResult } from '../report.js';
import type { GeneratorProtocol } from './generator-messages.js';
import { describeMachine } from './machine.js';
import {
  metricUnits,
  OutcomeStatus,
  type MetricName,
  type RunRecord,
  type SystemRecord,
  type WorkloadOutcome,
} from './outcome.js';
import { activemq } from './peers/activemq.js';
import { aedes } from './peers/aedes.js';
import { mosquitto } from './peers/mosquitto.js';
import { nats } from './peers/nats.js';
import { rabbitmq } from './peers/rabbitmq.js';
import { weir } from './peers/weir.js';
import { writeReport } from './report-writer.js';
import { SystemUnavailableError, type RunningSystem, type SystemDefinition } from './system.js';
import { runWorkload } from './workload-runner.js';
import { Profile, workloadsFor, type Workload } from './workloads.js';

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Weir first, then the peers: the order of rows in the report. */
export const allSystems: readonly SystemDefinition[] = [weir, mosquitto, aedes, nats, rabbitmq, activemq];
const allProtocols: readonly GeneratorProtocol[] = ['mqtt', 'stomp'];
const warmUpMs = 1000;

export interface HarnessOptions {
  readonly profile: Profile;
  readonly systems: readonly string[] | undefined;
  readonly protocols: readonly GeneratorProtocol[] | undefined;
  readonly workloads: readonly string[] | undefined;
  /** Where REPORT.md goes (charts beside it, in charts/); undefined writes none. */
  readonly reportPath: string | undefined;
  /** Regenerate the report from a saved run record instead of running. */
  readonly fromRecord: string | undefined;
  /** Keep the work directory (brokers' data and logs) instead of removing it. */
  readonly keepWork: boolean;
  /** Lines for the report's header, e.g. what the Weir build under test contained. */
  readonly notes: readonly string[];
}

export const harnessUsage = `usage: npm run bench [-- --full] [--systems a,b] [--protocols mqtt,stomp]
                 [--workloads name,...] [--no-report | --report path] [--from-record run.json]
                 [--keep-work] [--note text]`;

export function parseHarnessArgs(args: readonly string[]): HarnessOptions {
  let profile: Profile = Profile.Quick;
  let systems: string[] | undefined;
  let protocols: GeneratorProtocol[] | undefined;
  let workloads: string[] | undefined;
  let reportPath: string | undefined = path.join(repositoryRoot, 'bench', 'REPORT.md');
  let fromRecord: string | undefined;
  let keepWork = false;
  const notes: string[] = [];
  const list = (index: number): string[] => {
    const value = args[index];
    if (value === undefined) throw new Error(`${args[index - 1] ?? 'option'} needs a value\n${harnessUsage}`);
    return value.split(',').filter((item) => item !== '');
  };
  for (let index = 0; index < args.length; index++) {
    const argument = args[index] ?? '';
    switch (argument) {
      case '--full':
        profile = Profile.Full;
        break;
      case '--quick':
        profile = Profile.Quick;
        break;
      case '--systems':
        systems = list(++index);
        break;
      case '--protocols':
        protocols = list(++index).map((name) => {
          if (name !== 'mqtt' && name !== 'stomp')
            throw new Error(`unknown protocol ${name}\n${harnessUsage}`);
          return name;
        });
        break;
      case '--workloads':
        workloads = list(++index);
        break;
      case '--no-report':
        reportPath = undefined;
        break;
      case '--report':
        reportPath = path.resolve(list(++index)[0] ?? '');
        break;
      case '--note': {
        const note = args[++index];
        if (note === undefined) throw new Error(`--note needs a value\n${harnessUsage}`);
        notes.push(note);
        break;
      }
      case '--keep-work':
        keepWork = true;
        break;
      case '--from-record':
        fromRecord = path.resolve(list(++index)[0] ?? '');
        break;
      default:
        throw new Error(`unknown option ${argument}\n${harnessUsage}`);
    }
  }
  const known = allSystems.map((system) => system.name);
  for (const name of systems ?? []) {
    if (!known.includes(name)) throw new Error(`unknown system ${name}; systems: ${known.join(', ')}`);
  }
  return { profile, systems, protocols, workloads, reportPath, fromRecord, keepWork, notes };
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Runs the harness; resolves with the process exit code (1 when any run failed). */
export async function runHarness(options: HarnessOptions): Promise<number> {
  if (options.fromRecord !== undefined) {
    const record = JSON.parse(readFileSync(options.fromRecord, 'utf8')) as RunRecord;
    if (options.reportPath !== undefined) writeReport(record, options.reportPath);
    return 0;
  }
  const startedAt = new Date();
  const loadAverageStart = os.loadavg()[0] ?? 0;
  const runId = startedAt.getTime().toString(36).slice(-5);
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-'));
  const workloads = workloadsFor(options.profile).filter(
    (workload) => options.workloads === undefined || options.workloads.includes(workload.name),
  );
  const protocols = allProtocols.filter(
    (protocol) => options.protocols === undefined || options.protocols.includes(protocol),
  );
  const systems = allSystems.filter(
    (system) => options.systems === undefined || options.systems.includes(system.name),
  );
  const outcomes: WorkloadOutcome[] = [];
  const systemRecords: SystemRecord[] = [];
  const results: BenchResult[] = [];
  log(
    `${options.profile} profile: ${workloads.length} workloads × ${systems.length} systems; work in ${workDirectory}`,
  );
  try {
    for (const definition of systems) {
      const systemProtocols = definition.protocols.filter((protocol): protocol is GeneratorProtocol =>
        (protocols as readonly string[]).includes(protocol),
      );
      if (systemProtocols.length === 0) continue;
      const unavailable = (reason: string, failed: boolean): void => {
        log(`${definition.name}: ${reason}`);
        systemRecords.push({
          name: definition.name,
          version: '—',
          protocols: systemProtocols,
          durability: {},
          settings: [],
          unavailableReason: reason,
        });
        for (const protocol of systemProtocols) {
          for (const workload of workloads) {
            outcomes.push({
              protocol,
              workload: workload.name,
              system: definition.name,
              status: failed ? OutcomeStatus.Failed : OutcomeStatus.Unavailable,
              reason,
              metrics: {},
              notes: [],
            });
          }
        }
      };
      const reason = definition.unavailableReason();
      if (reason !== undefined) {
        unavailable(reason, false);
        continue;
      }
      // A fresh broker for each protocol, so one protocol's backlog (and the clean-up after
      // it) does not slow the next protocol's first workload.
      let recorded = false;
      for (const protocol of systemProtocols) {
        const directory = path.join(workDirectory, `${definition.name}-${protocol}`);
        mkdirSync(directory, { recursive: true });
        let system: RunningSystem;
        try {
          log(`${definition.name}: starting for ${protocol}`);
          system = await definition.start(directory);
        } catch (error) {
          // Weir not starting is a failure of the run; a peer not starting only removes it.
          if (error instanceof SystemUnavailableError) unavailable(error.message, false);
          else unavailable(`failed to start: ${(error as Error).message}`, definition.name === 'weir');
          break;
        }
        log(
          `${system.name} ${system.version}: pid ${system.process.pid}, ports ${JSON.stringify(system.ports)}`,
        );
        if (!recorded) {
          recorded = true;
          systemRecords.push({
            name: system.name,
            version: system.version,
            protocols: systemProtocols,
            durability: system.durability,
            settings: system.settings,
          });
        }
        try {
          await warmUp(system, protocol, runId);
          for (const workload of workloads) {
            const outcome = await runOne(system, protocol, workload, runId);
            outcomes.push(outcome);
            results.push(...emitOutcome(outcome));
          }
        } finally {
          await system.stop();
        }
      }
    }
  } finally {
    if (options.keepWork) log(`kept the work directory ${workDirectory}`);
    else rmSync(workDirectory, { recursive: true, force: true });
  }
  const record: RunRecord = {
    profile: options.profile,
    notes: options.notes,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { ...describeMachine(os.tmpdir()), loadAverageStart, loadAverageEnd: os.loadavg()[0] ?? 0 },
    workloads: workloads.map(({ name, title, kind, messageBytes }) => ({ name, title, kind, messageBytes })),
    protocols,
    systems: systemRecords,
    outcomes,
  };
  const recordDirectory = path.join(repositoryRoot, '.bench-work');
  mkdirSync(recordDirectory, { recursive: true });
  writeFileSync(path.join(recordDirectory, 'last-run.json'), `${JSON.stringify(record, null, 1)}\n`);
  if (options.reportPath !== undefined) {
    writeReport(record, options.reportPath);
    log(`report: ${path.relative(process.cwd(), options.reportPath)}`);
  }
  printTable(results);
  const failures = outcomes.filter((outcome) => outcome.status === OutcomeStatus.Failed);
  for (const failure of failures) {
    log(`FAILED ${failure.system} ${failure.protocol} ${failure.workload}: ${failure.reason ?? ''}`);
  }
  return failures.length > 0 ? 1 : 0;
}

/** One short unmeasured run before the measured ones, so JITs and caches are warm for every broker alike. */
async function warmUp(system: RunningSystem, protocol: GeneratorProtocol, runId: string): Promise<void> {
  if (system.ports[protocol] === undefined) return;
  const first = workloadsFor(Profile.Quick)[0];
  if (first === undefined) return;
  const outcome = await runWorkload(
    system,
    protocol,
    { ...first, name: 'warm-up', durationMs: warmUpMs },
    runId,
  );
  log(
    `${system.name} ${protocol} warm-up: ${outcome.status === OutcomeStatus.Ok ? 'done' : (outcome.reason ?? '')}`,
  );
}

async function runOne(
  system: RunningSystem,
  protocol: GeneratorProtocol,
  workload: Workload,
  runId: string,
): Promise<WorkloadOutcome> {
  if (!system.process.alive) {
    return {
      protocol,
      workload: workload.name,
      system: system.name,
      status: OutcomeStatus.Failed,
      reason: `the broker ${system.process.describeExit()} before this workload`,
      metrics: {},
      notes: [],
    };
  }
  log(`${system.name} ${protocol} ${workload.name}: running`);
  const outcome = await runWorkload(system, protocol, workload, runId);
  if (outcome.status === OutcomeStatus.Ok) {
    const rate = outcome.metrics.msgs_per_s ?? 0;
    log(`${system.name} ${protocol} ${workload.name}: ${Math.round(rate).toLocaleString('en-US')} msg/s`);
  } else {
    log(`${system.name} ${protocol} ${workload.name}: FAILED — ${outcome.reason ?? ''}`);
  }
  return outcome;
}

/** JSON lines for an outcome that kept its promise; a failed run prints no figures. */
function emitOutcome(outcome: WorkloadOutcome): BenchResult[] {
  if (outcome.status !== OutcomeStatus.Ok) return [];
  const results: BenchResult[] = [];
  for (const [metric, value] of Object.entries(outcome.metrics) as [MetricName, number][]) {
    const result: BenchResult = {
      bench: `harness.${outcome.protocol}.${outcome.workload}`,
      system: outcome.system,
      metric,
      value: Math.round(value * 1000) / 1000,
      unit: metricUnits[metric],
    };
    emit(result);
    results.push(result);
  }
  return results;
}
