// RabbitMQ (Debian package `rabbitmq-server`) with its STOMP and MQTT plugins. Each run
// gets its own node name, ports, Mnesia directory, config, plugin list and its own epmd,
// so it never touches a RabbitMQ the machine may already run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { debianPackageVersion } from '../package-version.js';
import { prefetchMessages, type Durability, type SystemDefinition } from '../system.js';

const serverScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const controlScript = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const startTimeoutMs = 90_000;

/** Which plugins a run enables, and its configuration beyond the loopback listeners. */
export interface RabbitMqTuning {
  readonly protocols: readonly ('mqtt' | 'stomp')[];
  /** Lines of rabbitmq.conf. */
  readonly config: readonly string[];
  /** What they change from the defaults, and why, for the report. */
  readonly settings: readonly string[];
}

const harnessTuning: RabbitMqTuning = {
  protocols: ['mqtt', 'stomp'],
  config: [`mqtt.prefetch = ${prefetchMessages}`],
  settings: [
    `STOMP and MQTT plugins enabled; prefetch ${prefetchMessages} (stomp prefetch-count header, mqtt.prefetch)`,
  ],
};

const durabilities: Readonly<Record<'mqtt' | 'stomp', Durability>> = {
  stomp: {
    fsyncBeforeConfirm: true,
    description:
      '/queue: durable queue, persistent messages: the RECEIPT waits for the publisher confirm, which follows the fsync; /topic (fan-out): transient subscription queues',
  },
  mqtt: {
    fsyncBeforeConfirm: false,
    description:
      'clean sessions use transient queues: PUBACK once routed; persistent sessions (backlog) use durable queues',
  },
};

/** RabbitMQ with the plugins and configuration `tuning` says. */
export function rabbitmqSystem(tuning: RabbitMqTuning): SystemDefinition {
  const stomp = tuning.protocols.includes('stomp');
  const mqtt = tuning.protocols.includes('mqtt');
  return {
    name: 'rabbitmq',
    protocols: tuning.protocols,
    unavailableReason: () =>
      existsSync(serverScript) && existsSync('/usr/bin/epmd') ? undefined : 'not installed: run bench/setup',
    async start(directory) {
      const [amqpPort, distributionPort, epmdPort, stompPort, mqttPort] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
        freePort(),
        freePort(),
      ]);
      const configFile = path.join(directory, 'rabbitmq.conf');
      writeFileSync(
        configFile,
        [
          `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
          ...(stomp ? [`stomp.listeners.tcp.1 = 127.0.0.1:${stompPort}`] : []),
          ...(mqtt ? [`mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`] : []),
          ...tuning.config,
          '',
        ].join('\n'),
      );
      const pluginsFile = path.join(directory, 'enabled_plugins');
      writeFileSync(
        pluginsFile,
        `[${tuning.protocols.map((protocol) => `rabbitmq_${protocol}`).join(',')}].\n`,
      );
      // An empty environment file: the machine's /etc/rabbitmq/rabbitmq-env.conf is not this run's.
      const environmentFile = path.join(directory, 'rabbitmq-env.conf');
      writeFileSync(environmentFile, '');
      mkdirSync(path.join(directory, 'home'), { recursive: true });
      // Its own epmd, in the foreground, so stopping it is stopping a process we started.
      const epmd = ManagedProcess.spawn(
        'rabbitmq-epmd',
        '/usr/bin/epmd',
        ['-port', String(epmdPort), '-address', '127.0.0.1'],
        { cwd: directory, logFile: path.join(directory, 'epmd.log') },
      );
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: path.join(directory, 'home'),
        ERL_EPMD_PORT: String(epmdPort),
        ERL_EPMD_ADDRESS: '127.0.0.1',
        RABBITMQ_NODENAME: `weirbench${amqpPort}@localhost`,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(amqpPort),
        RABBITMQ_DIST_PORT: String(distributionPort),
        RABBITMQ_MNESIA_BASE: path.join(directory, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(directory, 'log'),
        RABBITMQ_CONFIG_FILE: configFile,
        RABBITMQ_ADVANCED_CONFIG_FILE: path.join(directory, 'advanced.config'),
        RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
        RABBITMQ_CONF_ENV_FILE: environmentFile,
        RABBITMQ_PLUGINS_EXPAND_DIR: path.join(directory, 'plugins-expand'),
        RABBITMQ_PID_FILE: path.join(directory, 'rabbitmq.pid'),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      };
      const broker = ManagedProcess.spawn('rabbitmq', serverScript, [], {
        cwd: directory,
        env,
        logFile: path.join(directory, 'rabbitmq.log'),
      });
      try {
        await broker.waitUntilListening(
          [...(stomp ? [stompPort] : []), ...(mqtt ? [mqttPort] : [])],
          startTimeoutMs,
        );
      } catch (error) {
        await epmd.stop();
        throw error;
      }
      return {
        name: 'rabbitmq',
        version: debianPackageVersion('rabbitmq-server') ?? 'unknown',
        ports: { ...(mqtt ? { mqtt: mqttPort } : {}), ...(stomp ? { stomp: stompPort } : {}) },
        durability: {
          ...(mqtt ? { mqtt: durabilities.mqtt } : {}),
          ...(stomp ? { stomp: durabilities.stomp } : {}),
        },
        settings: tuning.settings,
        username: 'guest',
        password: 'guest',
        stompSendHeaders: [['persistent', 'true']],
        stompSubscribeHeaders: [['prefetch-count', String(prefetchMessages)]],
        process: broker,
        inspect() {
          const listed = spawnSync(controlScript, ['list_queues', '-q', 'name', 'durable'], {
            env,
            encoding: 'utf8',
            timeout: 30_000,
          });
          return `rabbitmqctl list_queues name durable: ${(listed.stdout ?? '').trim().replace(/\s+/g, ' ') || listed.stderr}`;
        },
        async stop() {
          await broker.stop();
          await epmd.stop();
        },
      };
    },
  };
}

/** RabbitMQ as the harness's own run configures it. */
export const rabbitmq: SystemDefinition = rabbitmqSystem(harnessTuning);
