// Mosquitto, the MQTT broker most users run today (Debian package `mosquitto`).
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { commandOutputLine, debianPackageVersion } from '../package-version.js';
import { anonymousSingleProcess, type RunningSystem, type SystemDefinition } from '../system.js';

const binary = '/usr/sbin/mosquitto';

/** Mosquitto's configuration beyond its loopback listener, in memory, logging to its log file. */
export interface MosquittoTuning {
  /** Lines of mosquitto.conf. */
  readonly config: readonly string[];
  /** What they change from Mosquitto's defaults, and why, for the report. */
  readonly settings: readonly string[];
}

const harnessTuning: MosquittoTuning = {
  config: ['max_queued_messages 0', 'max_queued_bytes 0', 'max_inflight_messages 1000', 'log_type warning'],
  settings: [
    'max_queued_messages 0 (default 1000): otherwise it drops QoS 1 messages queued for an offline session',
    'max_inflight_messages 1000 (default 20): the same delivery window every broker gets',
  ],
};

/** Mosquitto with the given configuration. */
export function mosquittoSystem(tuning: MosquittoTuning): SystemDefinition {
  return {
    name: 'mosquitto',
    protocols: ['mqtt'],
    unavailableReason: () => (existsSync(binary) ? undefined : 'not installed: run bench/setup'),
    async start(directory) {
      const port = await freePort();
      const configFile = path.join(directory, 'mosquitto.conf');
      const settings = tuning.settings;
      writeFileSync(
        configFile,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence false',
          'log_dest stdout',
          'log_type error',
          'user root',
          ...tuning.config,
          '',
        ].join('\n'),
      );
      const broker = ManagedProcess.spawn('mosquitto', binary, ['-c', configFile], {
        cwd: directory,
        logFile: path.join(directory, 'mosquitto.log'),
      });
      await broker.waitUntilListening([port], 20_000);
      const version =
        commandOutputLine(binary, ['-h'], /mosquitto version \S+/)?.replace('mosquitto version ', '') ??
        debianPackageVersion('mosquitto') ??
        'unknown';
      const system: RunningSystem = {
        name: 'mosquitto',
        version,
        ports: { mqtt: port },
        durability: {
          mqtt: {
            fsyncBeforeConfirm: false,
            description:
              'in memory (persistence off); Mosquitto can only snapshot to disk periodically, never before PUBACK',
          },
        },
        settings,
        ...anonymousSingleProcess(broker),
      };
      return system;
    },
  };
}

/** Mosquitto as the harness's own run configures it. */
export const mosquitto: SystemDefinition = mosquittoSystem(harnessTuning);
