// The adapter below the client: frames written over an in-memory duplex (no socket), with
// a manual clock for heartbeats.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ErrorCode } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { UsersAuthenticator } from '../../src/core/auth.js';
import { BrokerCore } from '../../src/core/broker.js';
import type { Frame } from '../../src/protocols/native/codec/index.js';
import {
  BufferWriter,
  FrameDecoder,
  ProtocolVersion,
  encodeFrame,
} from '../../src/protocols/native/codec/index.js';
import { createNativeServer } from '../../src/protocols/native/server.js';
import { createDuplexPair } from '../../src/server/duplex-pair.js';
import { until } from './harness.js';

async function setup(options: { connectionsMax?: number } = {}) {
  const clock = new ManualClock();
  const core = await BrokerCore.open({ storage: 'memory', clock });
  const server = createNativeServer({
    core,
    authenticator: new UsersAuthenticator({ users: [] }),
    logger: silentLogger,
    clock,
    limits: {
      connectionsMax: options.connectionsMax ?? 10,
      frameBytesMax: 1 << 20,
      messageBytesMax: 1 << 19,
    },
    options: {},
  });
  const open = (): { end: Duplex; frames: Frame[]; send(frame: Frame): void; closed: () => boolean } => {
    const [client, broker] = createDuplexPair();
    server.handleConnection(broker, {
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      transport: 'in-process',
      loopback: true,
    });
    const decoder = new FrameDecoder(1 << 20);
    const frames: Frame[] = [];
    let closed = false;
    client.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk)));
    client.on('close', () => (closed = true));
    client.on('end', () => (closed = true));
    client.on('error', () => undefined);
    return {
      end: client,
      frames,
      send(frame) {
        const writer = new BufferWriter(64);
        encodeFrame(writer, frame);
        client.write(writer.take());
      },
      closed: () => closed,
    };
  };
  const hello = (heartbeatMs = 0): Frame => ({
    kind: 'hello',
    requestId: 0,
    versionMin: ProtocolVersion.min,
    versionMax: ProtocolVersion.max,
    clientName: 'test',
    heartbeatMs,
    frameBytesMax: 1 << 20,
  });
  return {
    clock,
    core,
    server,
    open,
    hello,
    close: async () => {
      await server.close();
      await core.close();
    },
  };
}

test('the broker drops a client silent for three heartbeat intervals, and pings before that', async () => {
  const broker = await setup();
  const connection = broker.open();
  connection.send(broker.hello(1_000));
  await until(() => connection.frames.some((frame) => frame.kind === 'welcome'), 'welcome');
  broker.clock.advance(1_000);
  await until(() => connection.frames.some((frame) => frame.kind === 'ping'), 'ping');
  broker.clock.advance(2_000);
  await until(() => connection.closed(), 'closed');
  const error = connection.frames.find((frame) => frame.kind === 'error');
  assert.ok(error?.kind === 'error' && error.fatal && error.code === ErrorCode.Timeout);
  await broker.close();
});

test('version negotiation: a client offering only future versions is refused', async () => {
  const broker = await setup();
  const connection = broker.open();
  connection.send({ ...broker.hello(), versionMin: 7, versionMax: 9 } as Frame);
  await until(() => connection.closed(), 'closed');
  const error = connection.frames.find((frame) => frame.kind === 'error');
  assert.ok(error?.kind === 'error' && error.code === ErrorCode.NotSupported);
  await broker.close();
});

test('frames pipelined behind HELLO run once the session is open', async () => {
  const broker = await setup();
  const connection = broker.open();
  connection.send(broker.hello());
  connection.send({
    kind: 'admin',
    requestId: 5,
    operation: 'streamCreate',
    body: { name: 'pipelined', subjects: ['p'], storage: 'memory' },
  });
  // Requests are independent once the session is open: wait for the stream before publishing.
  await until(
    () => connection.frames.some((frame) => frame.kind === 'adminResult' && frame.requestId === 5),
    'stream created',
  );
  connection.send({
    kind: 'publish',
    requestId: 6,
    confirm: true,
    messages: [{ subject: 'p', body: Buffer.from('x') }],
  });
  await until(() => connection.frames.some((frame) => frame.kind === 'publishAck'), 'publish ack');
  const ack = connection.frames.find((frame) => frame.kind === 'publishAck');
  assert.ok(ack?.kind === 'publishAck' && ack.results[0]?.ok === true && ack.requestId === 6);
  await broker.close();
});

test('connections past the limit are refused with WEIR_LIMIT_EXCEEDED; others stay', async () => {
  const broker = await setup({ connectionsMax: 1 });
  const first = broker.open();
  first.send(broker.hello());
  await until(() => first.frames.some((frame) => frame.kind === 'welcome'), 'welcome');
  const second = broker.open();
  await until(() => second.closed(), 'second refused');
  const error = second.frames.find((frame) => frame.kind === 'error');
  assert.ok(error?.kind === 'error' && error.code === ErrorCode.LimitExceeded);
  first.send({ kind: 'ping', requestId: 9 });
  await until(() => first.frames.some((frame) => frame.kind === 'pong'), 'first still served');
  await broker.close();
});

test('server close says GOODBYE to every connection', async () => {
  const broker = await setup();
  const connection = broker.open();
  connection.send(broker.hello());
  await until(() => connection.frames.some((frame) => frame.kind === 'welcome'), 'welcome');
  await broker.close();
  await until(() => connection.frames.some((frame) => frame.kind === 'goodbye'), 'goodbye');
});
