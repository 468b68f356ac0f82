// The server's listeners with a test protocol registered in place of real adapters: TCP,
// WebSocket (routing by path and subprotocol) and in-process connections all reach the
// adapter as a Duplex with the right ConnectionInfo; HTTP answers /healthz and a JSON 404;
// close() stops listening, closes the adapters, then the core.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { ManualClock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import type { ConnectionInfo, ProtocolContext, ProtocolServer } from '../../src/core/protocol-server.js';
import type { ProtocolDescriptor } from '../../src/server/protocols.js';
import { type ServerHandle, startServer } from '../../src/server/server.js';

interface EchoServer extends ProtocolServer {
  readonly connections: ConnectionInfo[];
  readonly contexts: ProtocolContext[];
  closed: boolean;
}

/** Answers every chunk with `<name>/<transport>/<loopback>:<chunk>`. */
function echoProtocol(
  name: string,
  websocket?: ProtocolDescriptor['websocket'],
): ProtocolDescriptor & { instance?: EchoServer } {
  const descriptor: ProtocolDescriptor & { instance?: EchoServer } = {
    name,
    ...(websocket === undefined ? {} : { websocket }),
    create: (context) => {
      const streams = new Set<Duplex>();
      const instance: EchoServer = {
        name,
        connections: [],
        contexts: [context],
        closed: false,
        handleConnection(stream, info) {
          instance.connections.push(info);
          streams.add(stream);
          stream.on('close', () => streams.delete(stream));
          stream.on('data', (chunk: Buffer) =>
            stream.write(`${name}/${info.transport}/${info.loopback}:${chunk.toString()}`),
          );
        },
        async close() {
          instance.closed = true;
          for (const stream of streams) stream.destroy();
        },
      };
      descriptor.instance = instance;
      return instance;
    },
  };
  return descriptor;
}

async function readOnce(stream: Duplex | Socket): Promise<string> {
  const [chunk] = (await once(stream, 'data')) as [Buffer];
  return chunk.toString();
}

describe('listeners', () => {
  const mqtt = echoProtocol('mqtt', { path: '/mqtt', subprotocols: ['mqtt'] });
  const stomp = echoProtocol('stomp', {
    path: '/stomp',
    subprotocols: ['v12.stomp', 'v11.stomp', 'v10.stomp'],
  });
  let coreClosed = false;
  let handle: ServerHandle;

  before(async () => {
    handle = await startServer(
      {
        protocols: {
          native: { port: 0 },
          mqtt: { port: 0 },
          stomp: { port: 0, options: { heartbeatMs: 5 } },
        },
        http: { port: 0 },
        limits: { connectionsMax: 7 },
        shutdownGraceMs: 1000,
      },
      {
        protocols: [mqtt, stomp],
        logger: silentLogger,
        openCore: async () => ({
          openSession: () => assert.fail('the test protocols never open sessions'),
          close: async () => {
            coreClosed = true;
          },
        }),
      },
    );
  });

  after(async () => {
    await handle.close();
  });

  test('only registered protocols listen; ports are reported', () => {
    assert.deepEqual(handle.protocols, ['mqtt', 'stomp']);
    assert.deepEqual(Object.keys(handle.ports).sort(), ['http', 'mqtt', 'stomp']);
    for (const port of Object.values(handle.ports)) assert.ok(port > 0);
  });

  test('adapters get limits, their own options and a logger in their context', () => {
    const context = stomp.instance?.contexts[0];
    assert.equal(context?.limits.connectionsMax, 7);
    assert.deepEqual(context?.options, { heartbeatMs: 5 });
    assert.deepEqual(mqtt.instance?.contexts[0]?.options, {});
  });

  test('a TCP connection reaches its protocol with loopback connection info', async () => {
    const socket = connect({ host: '127.0.0.1', port: handle.ports.mqtt ?? 0 });
    await once(socket, 'connect');
    socket.write('ping');
    assert.equal(await readOnce(socket), 'mqtt/tcp/true:ping');
    const info = mqtt.instance?.connections.at(-1);
    assert.equal(info?.remoteAddress, '127.0.0.1');
    assert.equal(info?.remotePort, socket.localPort);
    socket.destroy();
  });

  test('GET /healthz answers 200 with JSON', async () => {
    const response = await fetch(`http://127.0.0.1:${handle.ports.http}/healthz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const body = (await response.json()) as { status: string; protocols: string[] };
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.protocols, ['mqtt', 'stomp']);
  });

  test('an unknown path answers 404 with a JSON error; a WebSocket path without upgrade answers 426', async () => {
    const response = await fetch(`http://127.0.0.1:${handle.ports.http}/nowhere?x=1`);
    assert.equal(response.status, 404);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, ErrorCode.NotFound);
    assert.match(body.error.message, /\/nowhere/);
    const plain = await fetch(`http://127.0.0.1:${handle.ports.http}/mqtt`);
    assert.equal(plain.status, 426);
    const post = await fetch(`http://127.0.0.1:${handle.ports.http}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('WebSocket /mqtt with subprotocol mqtt reaches the MQTT adapter as a Duplex', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${handle.ports.http}/mqtt`, ['mqtt']);
    await once(socket, 'open');
    assert.equal(socket.protocol, 'mqtt');
    socket.send(Buffer.from('hello'));
    const [data] = (await once(socket, 'message')) as [Buffer];
    assert.equal(data.toString(), 'mqtt/websocket/true:hello');
    socket.close();
    await once(socket, 'close');
  });

  test('WebSocket /stomp picks the newest STOMP version the client offers', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${handle.ports.http}/stomp`, ['v10.stomp', 'v11.stomp']);
    await once(socket, 'open');
    assert.equal(socket.protocol, 'v11.stomp');
    socket.send('CONNECT');
    const [data] = (await once(socket, 'message')) as [Buffer];
    assert.equal(data.toString(), 'stomp/websocket/true:CONNECT');
    socket.close();
    await once(socket, 'close');
  });

  test('an upgrade on an unknown path or with a foreign subprotocol is refused', async () => {
    const unknown = new WebSocket(`ws://127.0.0.1:${handle.ports.http}/amqp`);
    const [unknownRequest, unknownResponse] = (await once(unknown, 'unexpected-response')) as [
      ClientRequest,
      IncomingMessage,
    ];
    assert.equal(unknownResponse.statusCode, 404);
    unknownRequest.destroy();
    const foreign = new WebSocket(`ws://127.0.0.1:${handle.ports.http}/mqtt`, ['v12.stomp']);
    const [foreignRequest, foreignResponse] = (await once(foreign, 'unexpected-response')) as [
      ClientRequest,
      IncomingMessage,
    ];
    assert.equal(foreignResponse.statusCode, 400);
    foreignRequest.destroy();
  });

  test('an in-process connection reaches the adapter with transport in-process', async () => {
    const stream = handle.connect('stomp');
    stream.write('local');
    assert.equal(await readOnce(stream), 'stomp/in-process/true:local');
    stream.destroy();
    assert.throws(
      () => handle.connect('amqp'),
      (error: unknown) => isWeirError(error, ErrorCode.NotSupported),
    );
  });

  test('close stops the listeners, closes the adapters, then the core', async () => {
    const lingering = connect({ host: '127.0.0.1', port: handle.ports.stomp ?? 0 });
    await once(lingering, 'connect');
    const lingeringClosed = once(lingering, 'close');
    await handle.close();
    await lingeringClosed;
    assert.equal(mqtt.instance?.closed, true);
    assert.equal(stomp.instance?.closed, true);
    assert.equal(coreClosed, true);
    const refused = connect({ host: '127.0.0.1', port: handle.ports.mqtt ?? 0 });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal(handle.close(), handle.close(), 'close is idempotent');
  });
});

describe('startServer failures', () => {
  test('a protocol enabled explicitly without an adapter is refused', async () => {
    await assert.rejects(
      startServer(
        { protocols: { amqp: { enabled: true, port: 0 } }, http: { enabled: false } },
        { protocols: [], logger: silentLogger, openCore: async () => assert.fail('must not open the core') },
      ),
      (error: unknown) => isWeirError(error, ErrorCode.NotSupported) && /amqp/.test((error as Error).message),
    );
  });

  test('a port in use fails with WEIR_LISTEN_FAILED and closes what was opened', async () => {
    const first = await startServer(
      { http: { port: 0 } },
      {
        protocols: [],
        logger: silentLogger,
        openCore: async () => ({ openSession: () => assert.fail(), close: async () => {} }),
      },
    );
    let secondCoreClosed = false;
    try {
      await assert.rejects(
        startServer(
          { http: { port: first.ports.http ?? 0 } },
          {
            protocols: [],
            logger: silentLogger,
            openCore: async () => ({
              openSession: () => assert.fail(),
              close: async () => {
                secondCoreClosed = true;
              },
            }),
          },
        ),
        (error: unknown) =>
          isWeirError(error, ErrorCode.ListenFailed) && /EADDRINUSE/.test((error as Error).message),
      );
      assert.equal(secondCoreClosed, true);
    } finally {
      await first.close();
    }
  });
});

describe('shutdown grace', () => {
  test('connections an adapter does not close are destroyed once shutdownGraceMs has passed', async () => {
    const clock = new ManualClock();
    let closeCalled = false;
    const stubborn: ProtocolDescriptor = {
      name: 'native',
      create: () => ({
        name: 'native',
        handleConnection: (stream) => stream.resume(),
        close: () => {
          closeCalled = true;
          return new Promise<void>(() => undefined); // Never finishes closing.
        },
      }),
    };
    let coreClosed = false;
    const handle = await startServer(
      { protocols: { native: { port: 0 } }, http: { enabled: false }, shutdownGraceMs: 5000 },
      {
        protocols: [stubborn],
        logger: silentLogger,
        clock,
        openCore: async () => ({
          openSession: () => assert.fail(),
          close: async () => {
            coreClosed = true;
          },
        }),
      },
    );
    const socket = connect({ host: '127.0.0.1', port: handle.ports.native ?? 0 });
    await once(socket, 'connect');
    socket.resume();
    const socketClosed = once(socket, 'close');
    const closing = handle.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closeCalled, true);
    assert.equal(coreClosed, false, 'the core waits for the adapters or the grace period');
    clock.advance(4999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(coreClosed, false);
    clock.advance(1);
    await closing;
    await socketClosed;
    assert.equal(coreClosed, true);
  });
});
