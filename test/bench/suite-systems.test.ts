import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../bench/harness/free-port.js';
import { ManagedProcess } from '../../bench/harness/managed-process.js';
import { describeSuiteSystem, startSuiteSystem } from '../../bench/harness/suite-systems.js';
import {
  anonymousSingleProcess,
  SystemUnavailableError,
  type SystemDefinition,
} from '../../bench/harness/system.js';

/** A system whose broker is a small Node.js process running `script` with the port as its argument. */
function scriptSystem(script: string, directories: string[]): SystemDefinition {
  return {
    name: 'toy',
    protocols: ['mqtt'],
    unavailableReason: () => undefined,
    async start(directory) {
      directories.push(directory);
      const port = await freePort();
      const broker = ManagedProcess.spawn('toy', process.execPath, ['-e', script, String(port)], {
        cwd: directory,
        logFile: path.join(directory, 'toy.log'),
      });
      await broker.waitUntilListening([port], 10_000);
      return {
        name: 'toy',
        version: '1.0',
        ports: { mqtt: port },
        durability: { mqtt: { fsyncBeforeConfirm: false, description: 'in memory' } },
        settings: ['none'],
        ...anonymousSingleProcess(broker),
      };
    },
  };
}

const listening = `require('node:net').createServer((socket) => socket.end()).listen(Number(process.argv[1]), '127.0.0.1')`;

test('a suite system answers on its port, and stopping it ends its process and removes its directory', async () => {
  const directories: string[] = [];
  const system = await startSuiteSystem(scriptSystem(listening, directories), 'test');
  const directory = directories[0] ?? '';
  assert.ok(existsSync(directory));
  assert.ok(system.process.alive);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(system.ports.mqtt ?? 0, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
  assert.deepEqual(describeSuiteSystem(system), [
    `toy 1.0: pid ${system.process.pid}, ports {"mqtt":${system.ports.mqtt}}`,
    'toy mqtt durability: fsync before confirm no; in memory',
    'toy setting: none',
  ]);
  await system.stop();
  assert.equal(system.process.alive, false);
  assert.equal(existsSync(directory), false);
});

test('a broker that exits before it listens fails with the end of its log, and leaves no directory', async () => {
  const directories: string[] = [];
  await assert.rejects(
    startSuiteSystem(scriptSystem(`console.error('no licence'); process.exit(3)`, directories), 'test'),
    (error: Error) => error.message.includes('toy did not start') && error.message.includes('no licence'),
  );
  assert.equal(existsSync(directories[0] ?? ''), false);
});

test('a system that cannot run here is unavailable, not started', async () => {
  const definition: SystemDefinition = {
    ...scriptSystem(listening, []),
    unavailableReason: () => 'not installed',
  };
  await assert.rejects(startSuiteSystem(definition, 'test'), SystemUnavailableError);
});
