// NATS with JetStream (Debian package `nats-server`), measured through its MQTT listener,
// which keeps QoS 1 messages and sessions in JetStream file storage.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { commandOutputLine, debianPackageVersion } from '../package-version.js';
import type { SystemDefinition } from '../system.js';

const binary = '/usr/sbin/nats-server';

export const nats: SystemDefinition = {
  name: 'nats',
  protocols: ['mqtt'],
  unavailableReason: () => (existsSync(binary) ? undefined : 'not installed: run bench/setup'),
  async start(directory) {
    const clientPort = await freePort();
    const mqttPort = await freePort();
    const storeDirectory = path.join(directory, 'jetstream');
    mkdirSync(storeDirectory, { recursive: true });
    const configFile = path.join(directory, 'nats.conf');
    writeFileSync(
      configFile,
      [
        `listen: "127.0.0.1:${clientPort}"`,
        'server_name: "weir-bench"',
        `jetstream { store_dir: "${storeDirectory}" }`,
        `mqtt { listen: "127.0.0.1:${mqttPort}", max_ack_pending: 1000 }`,
        '',
      ].join('\n'),
    );
    const broker = ManagedProcess.spawn('nats', binary, ['-c', configFile], {
      cwd: directory,
      logFile: path.join(directory, 'nats.log'),
    });
    try {
      await waitForPort(clientPort, 20_000, () => broker.alive);
      await waitForPort(mqttPort, 20_000, () => broker.alive);
    } catch (error) {
      await broker.stop();
      throw new Error(`nats-server did not start: ${(error as Error).message}\n${broker.logTail()}`);
    }
    const version =
      commandOutputLine(binary, ['--version'], /v\d+\.\d+\.\d+/)?.slice(1) ??
      debianPackageVersion('nats-server') ??
      'unknown';
    return {
      name: 'nats',
      version,
      ports: { mqtt: mqttPort },
      durability: {
        mqtt: {
          fsyncBeforeConfirm: false,
          description:
            'JetStream file store; QoS 1 is acked once written to the OS page cache, synced to disk periodically',
        },
      },
      settings: ['MQTT listener with JetStream file storage; mqtt.max_ack_pending 1000 (the common window)'],
      username: undefined,
      password: undefined,
      stompSendHeaders: [],
      stompSubscribeHeaders: [],
      process: broker,
      stop: () => broker.stop(),
    };
  },
};
