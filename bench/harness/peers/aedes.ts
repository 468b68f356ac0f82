// Aedes (npm `aedes`), the MQTT broker written for Node.js, with its default in-memory
// persistence. Run as its own process from bench/harness/peers/aedes-server.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { npmPackageVersion } from '../package-version.js';
import { anonymousSingleProcess, type SystemDefinition } from '../system.js';

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
    await broker.waitUntilListening([port], 20_000);
    return {
      name: 'aedes',
      version: aedesVersion() ?? 'unknown',
      ports: { mqtt: port },
      durability: {
        mqtt: { fsyncBeforeConfirm: false, description: 'in memory (default aedes-persistence)' },
      },
      settings: [`node ${process.version}, one process`],
      ...anonymousSingleProcess(broker),
    };
  },
};
