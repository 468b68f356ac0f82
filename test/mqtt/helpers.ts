// Test plumbing for the MQTT adapter: a broker core (the real BrokerCore in a temp dir when
// available, else a live-only core on the real LiveRouter), a real net.Server on port 0 that
// feeds handleConnection, and a raw-packet client for what the `mqtt` library will not send.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SystemClock } from '../../src/common/clock.js';
import type { Clock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import type { Authenticator } from '../../src/core/auth.js';
import { BrokerCore } from '../../src/core/broker.js';
import type { ProtocolCore } from '../../src/core/protocol-server.js';
import { MqttDecoder } from '../../src/protocols/mqtt/codec/decoder.js';
import { encodePacket } from '../../src/protocols/mqtt/codec/encoder.js';
import type { Packet } from '../../src/protocols/mqtt/codec/packets.js';
import type { DurableState } from '../../src/protocols/mqtt/durable-state.js';
import type { MqttOptions } from '../../src/protocols/mqtt/options.js';
import { createMqttServer } from '../../src/protocols/mqtt/server.js';
import type { MqttServer } from '../../src/protocols/mqtt/server.js';

export const allowAll: Authenticator = {
  authenticate: (request) =>
    Promise.resolve({
      name: request.username ?? 'anonymous',
      anonymous: request.username === undefined,
      protocol: 'mqtt',
    }),
};

export interface TestBroker {
  readonly port: number;
  readonly url: string;
  readonly server: MqttServer;
  close(): Promise<void>;
}

export interface TestCore {
  readonly core: BrokerCore;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A real BrokerCore on a temp dir (removed by close unless `keep`). */
export async function openCore(dataDir?: string, clock?: Clock): Promise<TestCore> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'weir-mqtt-')));
  const core = await BrokerCore.open({ dataDir: dir, ...(clock !== undefined ? { clock } : {}) });
  return {
    core,
    dataDir: dir,
    async close() {
      await core.close();
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A broker on a fresh BrokerCore in a temp dir; closing it closes and removes both. */
export async function startTestBroker(
  options: Parameters<typeof startBroker>[1] = {},
): Promise<TestBroker & { readonly core: BrokerCore }> {
  const testCore = await openCore(undefined, options.clock);
  const broker = await startBroker(testCore.core, options);
  return {
    ...broker,
    core: testCore.core,
    async close() {
      await broker.close();
      await testCore.close();
    },
  };
}

export async function startBroker(
  core: ProtocolCore,
  options: {
    durable?: DurableState;
    mqtt?: Partial<MqttOptions>;
    authenticator?: Authenticator;
    clock?: Clock;
    connectionsMax?: number;
    messageBytesMax?: number;
    port?: number;
  } = {},
): Promise<TestBroker> {
  const server = createMqttServer(
    {
      core,
      authenticator: options.authenticator ?? allowAll,
      logger: silentLogger,
      clock: options.clock ?? new SystemClock(),
      limits: {
        connectionsMax: options.connectionsMax ?? 10_000,
        frameBytesMax: 1024 * 1024,
        messageBytesMax: options.messageBytesMax ?? 1024 * 1024,
      },
      options: {},
    },
    {
      ...(options.durable !== undefined ? { durable: options.durable } : {}),
      options: { sysIntervalMs: 0, ...options.mqtt },
    },
  );
  await server.ready;
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.handleConnection(socket, {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      transport: 'tcp',
      loopback: true,
    });
  });
  await new Promise<void>((resolve) => listener.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    server,
    async close() {
      await server.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

/** A client that writes raw bytes and reads decoded packets. */
export class RawClient {
  readonly socket: net.Socket;
  readonly packets: Packet[] = [];
  readonly #decoder = new MqttDecoder(16 * 1024 * 1024);
  #waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket, version: 4 | 5) {
    this.socket = socket;
    this.#decoder.setProtocolVersion(version);
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk, (packet) => this.packets.push(packet));
      this.#wake();
    });
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.#wake();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  static async connect(port: number, version: 4 | 5 = 4): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket, version);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  write(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  send(packet: Packet, version: 4 | 5 = 4): void {
    this.write(encodePacket(packet, version));
  }

  /** Waits (at most `timeoutMs`) for a packet of the kind; returns it, removed from the list. */
  async next(cmd: Packet['cmd'], timeoutMs = 2000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.packets.findIndex((packet) => packet.cmd === cmd);
      if (index !== -1) return this.packets.splice(index, 1)[0] as Packet;
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${cmd} within ${timeoutMs} ms; got ${this.packets.map((p) => p.cmd).join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves true when the broker closes the connection within `timeoutMs`. */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    if (this.closed) return true;
    return Promise.race([
      this.closedPromise.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs)),
    ]);
  }

  end(): void {
    this.socket.destroy();
  }
}

/** A real broker process (fixtures/mqtt-broker.ts) on a data directory, for kill -9 tests. */
export interface BrokerProcess {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, and wait for the process to exit. */
  kill(): Promise<void>;
}

/** `env` adds variables to the process's environment (the test hooks of src/protocols/mqtt/test-hooks.ts). */
export async function startBrokerProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<BrokerProcess & { readonly exited: Promise<void> }> {
  const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mqtt-broker.js');
  const child = spawn(process.execPath, [fixture, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /PORT (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${String(code)}`)));
  });
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
