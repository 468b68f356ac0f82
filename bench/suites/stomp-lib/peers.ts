// Brokers the STOMP benchmark compares, each started by the benchmark on its own loopback
// ports with its own data directory, and stopped by the PID (process group) it was given.
// Kept small and self-contained on purpose; nothing here touches a system-wide instance.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchClient } from './client.js';

export interface Peer {
  readonly system: string;
  readonly port: number;
  /** CPU time the broker's processes (its process group) have used so far, in ms. */
  cpuMs(): number;
  /** What "durable" means for this peer in this run, stated in the report. */
  readonly durability: string;
  readonly login: string;
  readonly passcode: string;
  /** What the peer itself reports about durability after a run, if it can tell. */
  inspect?(): string;
  stop(): Promise<void>;
}

/**
 * User plus system CPU time of every process in a process group, from /proc (Linux): the
 * broker we started leads its group, and its children (the Erlang VM under RabbitMQ's start
 * script) are in it too.
 */
export function groupCpuMs(processGroup: number | undefined): number {
  if (processGroup === undefined) return 0;
  const ticksPerSecond = 100;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    if (Number(fields[2]) !== processGroup) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForStomp(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `exited with ${child.exitCode ?? child.signalCode} before accepting STOMP connections: ${log()}`,
      );
    }
    try {
      const client = await BenchClient.connect({ port, login: 'guest', passcode: 'guest' });
      await client.disconnect();
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`no STOMP answer on port ${port} within ${timeoutMs} ms (${lastError}): ${log()}`);
}

function tail(chunks: string[]): () => string {
  return () => chunks.join('').slice(-600).replace(/\s+/g, ' ');
}

function capture(child: ChildProcess): string[] {
  const chunks: string[] = [];
  const keep = (data: Buffer): void => {
    chunks.push(data.toString());
    if (chunks.length > 50) chunks.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return chunks;
}

async function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Weir in its own process: the benchmark client must not share the broker's event loop. */
export async function startWeir(): Promise<Peer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-stomp-'));
  const port = await freePort();
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'weir-server.js');
  const child = spawn(process.execPath, [script, dataDir, String(port)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = capture(child);
  try {
    await waitForStomp(port, child, 30_000, tail(output));
  } catch (error) {
    await stopGroup(child, 5_000);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    system: 'weir',
    port,
    cpuMs: () => groupCpuMs(child.pid),
    durability: 'queue stream fsync=always (group commit; RECEIPT after fsync)',
    login: 'guest',
    passcode: 'guest',
    stop: async () => {
      await stopGroup(child, 10_000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startActiveMq(): Promise<Peer> {
  const home = '/usr/share/activemq';
  if (!existsSync(path.join(home, 'bin', 'activemq.jar'))) {
    throw new Error('ActiveMQ is not installed (apt-get install activemq)');
  }
  const base = await mkdtemp(path.join(os.tmpdir(), 'activemq-bench-'));
  const port = await freePort();
  await mkdir(path.join(base, 'conf'), { recursive: true });
  await mkdir(path.join(base, 'data'), { recursive: true });
  await mkdir(path.join(base, 'tmp'), { recursive: true });
  // KahaDB with journalDiskSyncStrategy=always (its default): a persistent message is
  // fsynced before the broker acknowledges it, which is when the STOMP RECEIPT is sent.
  await writeFile(
    path.join(base, 'conf', 'activemq.xml'),
    `<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="weirbench"
          persistent="true" dataDirectory="${base}/data" schedulerSupport="false" advisorySupport="false">
    <persistenceAdapter>
      <kahaDB directory="${base}/data/kahadb" journalDiskSyncStrategy="always"/>
    </persistenceAdapter>
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:${port}"/>
    </transportConnectors>
  </broker>
</beans>
`,
  );
  const child = spawn(
    'java',
    [
      '-Xms512M',
      '-Xmx512M',
      `-Dactivemq.home=${home}`,
      `-Dactivemq.base=${base}`,
      `-Dactivemq.conf=${base}/conf`,
      `-Dactivemq.data=${base}/data`,
      `-Djava.io.tmpdir=${base}/tmp`,
      '-jar',
      path.join(home, 'bin', 'activemq.jar'),
      'start',
      `xbean:file:${base}/conf/activemq.xml`,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: base },
  );
  const output = capture(child);
  try {
    await waitForStomp(port, child, 90_000, tail(output));
  } catch (error) {
    await stopGroup(child, 5_000);
    await rm(base, { recursive: true, force: true });
    throw error;
  }
  return {
    system: 'activemq',
    port,
    cpuMs: () => groupCpuMs(child.pid),
    durability: 'KahaDB, journalDiskSyncStrategy=always (fsync before the RECEIPT)',
    login: 'guest',
    passcode: 'guest',
    stop: async () => {
      await stopGroup(child, 15_000);
      await rm(base, { recursive: true, force: true });
    },
  };
}

export async function startRabbitMq(): Promise<Peer> {
  const bin = '/usr/lib/rabbitmq/bin';
  if (!existsSync(path.join(bin, 'rabbitmq-server'))) {
    throw new Error('RabbitMQ is not installed (apt-get install rabbitmq-server)');
  }
  const base = await mkdtemp(path.join(os.tmpdir(), 'rabbitmq-bench-'));
  const [port, amqpPort, distPort, epmdPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  await writeFile(path.join(base, 'enabled_plugins'), '[rabbitmq_stomp].\n');
  await writeFile(
    path.join(base, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      `stomp.listeners.tcp.1 = 127.0.0.1:${port}`,
      'loopback_users.guest = true',
      'log.console = true',
      'log.console.level = warning',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(base, 'rabbitmq-env.conf'), '');
  const env = {
    ...process.env,
    HOME: base,
    RABBITMQ_NODENAME: `weirbench${process.pid}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: path.join(base, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: path.join(base, 'rabbitmq.pid'),
    RABBITMQ_ALLOW_INPUT: '',
  };
  const child = spawn(path.join(bin, 'rabbitmq-server'), [], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    cwd: base,
  });
  const output = capture(child);
  const stopAll = async (): Promise<void> => {
    await stopGroup(child, 20_000);
    // Erlang starts its port mapper daemon in the background on our private port: stop that one.
    spawnSync('epmd', ['-kill'], { env, stdio: 'ignore' });
    await rm(base, { recursive: true, force: true });
  };
  try {
    await waitForStomp(port, child, 90_000, tail(output));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    system: 'rabbitmq',
    port,
    cpuMs: () => groupCpuMs(child.pid),
    durability:
      'durable queue (STOMP plugin default for /queue/), persistent:true messages; RECEIPT after the publisher confirm, i.e. after fsync',
    login: 'guest',
    passcode: 'guest',
    inspect: () => {
      const listed = spawnSync(path.join(bin, 'rabbitmqctl'), ['list_queues', '-q', 'name', 'durable'], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      return `rabbitmqctl list_queues name durable: ${(listed.stdout ?? '').trim().replace(/\s+/g, ' ') || listed.stderr}`;
    },
    stop: stopAll,
  };
}
