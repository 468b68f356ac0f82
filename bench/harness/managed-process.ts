// A broker process the harness started: spawned in a process group of its own, its output
// in a log file, stopped by signalling exactly that group (never by name).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { waitForPort } from './free-port.js';
import { sampleProcessGroup, type ResourceSample } from './process-resources.js';

const stopGraceMs = 15_000;

/** Every group still running, so an interrupted run can still clean up what it started. */
const running = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const managed of running) managed.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const managed of running) managed.killNow();
      process.exit(130);
    });
  }
}

export interface SpawnOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logFile: string;
}

export class ManagedProcess {
  private exitCode: number | null = null;
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exited = true;
        this.exitCode = code;
        running.delete(this);
        resolve();
      });
    });
  }

  static spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions,
  ): ManagedProcess {
    installExitHook();
    const log = openSync(options.logFile, 'a');
    try {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        // detached: the child leads a new process group, so stop() reaches its children
        // (a shell script's JVM or Erlang VM) and nothing else.
        detached: true,
        stdio: ['ignore', log, log],
      });
      if (child.pid === undefined) throw new Error(`could not start ${command}`);
      const managed = new ManagedProcess(name, child, options.logFile);
      running.add(managed);
      return managed;
    } finally {
      closeSync(log);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** RSS and CPU of the whole process group. */
  sample(): ResourceSample {
    return sampleProcessGroup(this.pid);
  }

  /** The end of the process's log, for error messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Resolves once every port answers; otherwise stops the process and throws with the end of its log. */
  async waitUntilListening(ports: readonly number[], timeoutMs: number): Promise<void> {
    try {
      for (const port of ports) await waitForPort(port, timeoutMs, () => this.alive);
    } catch (error) {
      await this.stop();
      throw new Error(`${this.name} did not start: ${(error as Error).message}\n${this.logTail()}`);
    }
  }

  /** SIGTERM to the group, then SIGKILL if it has not exited within the grace period. */
  async stop(): Promise<void> {
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), stopGraceMs);
    await this.exitPromise;
    clearTimeout(timer);
    // The leader is gone; anything left in its group (a daemonized helper) goes too.
    this.signalGroup('SIGKILL');
  }

  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  describeExit(): string {
    return this.exited ? `exited with code ${this.exitCode ?? 'null (signal)'}` : 'running';
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
