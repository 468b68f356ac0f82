// The harness's systems as the per-protocol suites (bench/suites/) use them: each started in
// a work directory of its own under the OS temp directory, removed again when it stops, and
// described for people (machine, version, durability, settings) the way the report does.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeMachine } from './machine.js';
import { SystemUnavailableError, type RunningSystem, type SystemDefinition } from './system.js';

/** Starts `definition` for `suite` and waits until it answers; stopping it also removes its directory. */
export async function startSuiteSystem(definition: SystemDefinition, suite: string): Promise<RunningSystem> {
  const reason = definition.unavailableReason();
  if (reason !== undefined) throw new SystemUnavailableError(`${definition.name}: ${reason}`);
  const directory = await mkdtemp(path.join(os.tmpdir(), `weir-bench-${suite}-${definition.name}-`));
  let system: RunningSystem;
  try {
    system = await definition.start(directory);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    ...system,
    async stop() {
      try {
        await system.stop();
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

/** The machine a suite runs on, in one line, and what its figures may be compared with. */
export function describeSuiteMachine(): string {
  const machine = describeMachine(os.tmpdir());
  return (
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, ` +
    `node ${machine.node}, disk ${machine.disk}; figures from different runs are not comparable, only ratios within a run`
  );
}

/** A started system's version, process, ports, durability and settings, one line each. */
export function describeSuiteSystem(system: RunningSystem): string[] {
  const lines = [
    `${system.name} ${system.version}: pid ${system.process.pid}, ports ${JSON.stringify(system.ports)}`,
  ];
  for (const [protocol, durability] of Object.entries(system.durability)) {
    lines.push(
      `${system.name} ${protocol} durability: fsync before confirm ${durability.fsyncBeforeConfirm ? 'yes' : 'no'}; ${durability.description}`,
    );
  }
  for (const setting of system.settings) lines.push(`${system.name} setting: ${setting}`);
  return lines;
}
