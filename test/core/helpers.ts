// Shared setup for core tests: a BrokerCore on a temp directory (or in memory), removed after.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Delivery } from '../../src/core/api.js';
import { BrokerCore, type BrokerCoreOptions } from '../../src/core/broker.js';

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-core-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Lets pending appends, reads and setImmediate callbacks run. */
export async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits until `condition` holds, yielding to the event loop between checks (I/O needs real
 * time; broker timers in tests run on a ManualClock, never on this).
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function bodies(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((delivery) => delivery.message.body.toString());
}

export async function openCore(options: BrokerCoreOptions = {}): Promise<BrokerCore> {
  return BrokerCore.open(options);
}
