// The bare-socket floor (bare-socket-server.ts) as a system of the MQTT suite's idle workload:
// what a held TCP connection costs a Node.js process before any broker state.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { anonymousSingleProcess, type SystemDefinition } from '../system.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const bareSocket: SystemDefinition = {
  name: 'bare-socket',
  protocols: ['mqtt'],
  unavailableReason: () => undefined,
  async start(directory) {
    const port = await freePort();
    const server = ManagedProcess.spawn(
      'bare-socket',
      process.execPath,
      [path.join(here, 'bare-socket-server.js'), String(port)],
      { cwd: directory, logFile: path.join(directory, 'bare-socket.log') },
    );
    await server.waitUntilListening([port], 20_000);
    return {
      name: 'bare-socket',
      version: process.version,
      ports: { mqtt: port },
      durability: {},
      settings: ['not a broker: answers CONNECT with CONNACK and holds the socket (the Node.js floor)'],
      ...anonymousSingleProcess(server),
    };
  },
};
