// The machine a run happened on, for the report.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { MachineRecord } from './outcome.js';

function osName(): string {
  try {
    const release = execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' });
    return /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(release)?.[1] ?? `${os.type()} ${os.release()}`;
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

function diskOf(directory: string): string {
  try {
    const output = execFileSync('df', ['-T', directory], { encoding: 'utf8' });
    const fields = output.trim().split('\n').at(-1)?.split(/\s+/) ?? [];
    return `${fields[1] ?? '?'} (${fields[0] ?? '?'})`;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(workDirectory: string): MachineRecord {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osName()}, Linux ${os.release()}`,
    node: process.version,
    disk: diskOf(workDirectory),
  };
}
