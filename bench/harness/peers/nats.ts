// NATS with JetStream (Debian package `nats-server`): the harness measures it through its
// MQTT listener, which keeps QoS 1 messages and sessions in JetStream file storage; the
// native suite through its own client protocol, on JetStream streams with file storage.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { commandOutputLine, debianPackageVersion } from '../package-version.js';
import { anonymousSingleProcess, type Durability, type SystemDefinition } from '../system.js';

const binary = '/usr/sbin/nats-server';

const jetStreamDurability: Durability = {
  fsyncBeforeConfirm: false,
  description:
    'JetStream file store; a message is acked once written to the OS page cache, synced to disk periodically',
};

/** Which of its listeners are measured, and the configuration beyond its loopback ports and JetStream store. */
export interface NatsTuning {
  /** MQTT: its MQTT listener; nats: its own client protocol. */
  readonly protocols: readonly ('mqtt' | 'nats')[];
  /** Lines of nats.conf. */
  readonly config: readonly string[];
  /** What they change from NATS's defaults, and why, for the report. */
  readonly settings: readonly string[];
}

const harnessTuning: NatsTuning = {
  protocols: ['mqtt'],
  config: [],
  settings: ['MQTT listener with JetStream file storage; mqtt.max_ack_pending 1000 (the common window)'],
};

/** nats-server with JetStream file storage in the run's directory. */
export function natsSystem(tuning: NatsTuning): SystemDefinition {
  const mqtt = tuning.protocols.includes('mqtt');
  return {
    name: 'nats',
    protocols: tuning.protocols,
    unavailableReason: () => (existsSync(binary) ? undefined : 'not installed: run bench/setup'),
    async start(directory) {
      const clientPort = await freePort();
      const mqttPort = mqtt ? await freePort() : undefined;
      const storeDirectory = path.join(directory, 'jetstream');
      mkdirSync(storeDirectory, { recursive: true });
      const configFile = path.join(directory, 'nats.conf');
      writeFileSync(
        configFile,
        [
          `listen: "127.0.0.1:${clientPort}"`,
          'server_name: "weir-bench"',
          `jetstream { store_dir: "${storeDirectory}" }`,
          ...(mqttPort === undefined
            ? []
            : [`mqtt { listen: "127.0.0.1:${mqttPort}", max_ack_pending: 1000 }`]),
          ...tuning.config,
          '',
        ].join('\n'),
      );
      const broker = ManagedProcess.spawn('nats', binary, ['-c', configFile], {
        cwd: directory,
        logFile: path.join(directory, 'nats.log'),
      });
      await broker.waitUntilListening(mqttPort === undefined ? [clientPort] : [clientPort, mqttPort], 20_000);
      const version =
        commandOutputLine(binary, ['--version'], /v\d+\.\d+\.\d+/)?.slice(1) ??
        debianPackageVersion('nats-server') ??
        'unknown';
      return {
        name: 'nats',
        version,
        ports: {
          ...(mqttPort === undefined ? {} : { mqtt: mqttPort }),
          ...(tuning.protocols.includes('nats') ? { nats: clientPort } : {}),
        },
        durability: {
          ...(mqtt
            ? {
                mqtt: {
                  fsyncBeforeConfirm: false,
                  description:
                    'JetStream file store; QoS 1 is acked once written to the OS page cache, synced to disk periodically',
                },
              }
            : {}),
          ...(tuning.protocols.includes('nats') ? { nats: jetStreamDurability } : {}),
        },
        settings: tuning.settings,
        ...anonymousSingleProcess(broker),
      };
    },
  };
}

/** NATS as the harness's own run configures it. */
export const nats: SystemDefinition = natsSystem(harnessTuning);
