// Aedes (npm `aedes`), the MQTT broker written for Node.js, with its default in-memory
// persistence. Run as its own process from bench/harness/peers/aedes-server.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { npmPackageVersion } from '../package-version.js';
import type { SystemDefinition } from '../system.js';

const here = path.dirname(fileURLToPath(import.meta.url));
function aedesVersion(): string | undefined {
  return npmPackageVersion('aedes');
}

export const aedes: SystemDefinition = {
  name: 'aedes',
  protocols: ['mqtt'],
  unavailableReason: () =>
    aedesVersion() === undefined ? 'npm package aedes not installed: run bench/setup' : undefined,
  async start(directory) {
    const port = await freePort();
    const broker = ManagedProcess.spawn(
      'aedes',
      process.execPath,
      [path.join(here, 'aedes-server.js'), String(port)],
      {
        cwd: directory,
        logFile: path.join(directory, 'aedes.log'),
      },
    );
    try {
      await waitForPort(port, 20_000, () => broker.alive);
    } catch (error) {
      await broker.stop();
      throw new Error(`aedes did not start: ${(error as Error).message}\n${broker.logTail()}`);
    }
    return {
      name: 'aedes',
      version: aedesVersion() ?? 'unknown',
      ports: { mqtt: port },
      durability: {
        mqtt: { fsyncBeforeConfirm: false, description: 'in memory (default aedes-persistence)' },
      },
      settings: [`node ${process.version}, one process`],
      username: undefined,
      password: undefined,
      stompSendHeaders: [],
      stompSubscribeHeaders: [],
      process: broker,
      stop: () => broker.stop(),
    };
  },
};
