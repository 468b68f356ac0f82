// Runs the real `weir` command (dist/src/server/cli.js) as a child process for tests, and
// stops exactly that process.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const cliPath = path.resolve(import.meta.dirname, '../../src/server/cli.js');

export interface WeirProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

export function runWeir(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): WeirProcess {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * Waits for the ports file a `weir serve --ports-file` writes once listening. Polls: the
 * file appears from another process, so there is no event to wait on.
 */
export async function waitForPorts(
  file: string,
  weir: WeirProcess,
  timeoutMs = 20_000,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | string | undefined;
  void weir.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`weir exited with ${exitCode} before listening: ${weir.stderr()}${weir.stdout()}`);
    }
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { ports: Record<string, number> };
      return parsed.ports;
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`weir did not write ${file} within ${timeoutMs} ms: ${weir.stderr()}`);
}
