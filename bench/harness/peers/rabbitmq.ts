// RabbitMQ (Debian package `rabbitmq-server`) with its STOMP and MQTT plugins. Each run
// gets its own node name, ports, Mnesia directory, config, plugin list and its own epmd,
// so it never touches a RabbitMQ the machine may already run.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../free-port.js';
import { ManagedProcess } from '../managed-process.js';
import { debianPackageVersion } from '../package-version.js';
import { prefetchMessages, type SystemDefinition } from '../system.js';

const serverScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const startTimeoutMs = 90_000;

export const rabbitmq: SystemDefinition = {
  name: 'rabbitmq',
  protocols: ['mqtt', 'stomp'],
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
        `stomp.listeners.tcp.1 = 127.0.0.1:${stompPort}`,
        `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
        `mqtt.prefetch = ${prefetchMessages}`,
        '',
      ].join('\n'),
    );
    const pluginsFile = path.join(directory, 'enabled_plugins');
    writeFileSync(pluginsFile, '[rabbitmq_stomp,rabbitmq_mqtt].\n');
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
      await waitForPort(stompPort, startTimeoutMs, () => broker.alive);
      await waitForPort(mqttPort, startTimeoutMs, () => broker.alive);
    } catch (error) {
      await broker.stop();
      await epmd.stop();
      throw new Error(`rabbitmq did not start: ${(error as Error).message}\n${broker.logTail()}`);
    }
    return {
      name: 'rabbitmq',
      version: debianPackageVersion('rabbitmq-server') ?? 'unknown',
      ports: { mqtt: mqttPort, stomp: stompPort },
      durability: {
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
      },
      settings: [
        `STOMP and MQTT plugins enabled; prefetch ${prefetchMessages} (stomp prefetch-count header, mqtt.prefetch)`,
      ],
      username: 'guest',
      password: 'guest',
      stompSendHeaders: [['persistent', 'true']],
      stompSubscribeHeaders: [['prefetch-count', String(prefetchMessages)]],
      process: broker,
      async stop() {
        await broker.stop();
        await epmd.stop();
      },
    };
  },
};
