import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { NetworkClient } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { ErrorCode } from '../../src/common/errors.js';
import { FrameType } from '../../src/protocols/native/codec/index.js';
import type { TestBroker } from './harness.js';
import { startBroker } from './harness.js';
import { RawConnection } from './raw-connection.js';

let broker: TestBroker;
let healthy: NetworkClient;

before(async () => {
  broker = await startBroker({ frameBytesMax: 64 * 1024 });
  healthy = await connect({ servers: broker.address, reconnect: false });
  await healthy.createQueue('canary');
});

after(async () => {
  await healthy.close();
  await broker.close();
});

/** The healthy connection still publishes and consumes. */
async function canaryWorks(): Promise<void> {
  await healthy.publishConfirmed('canary', 'tweet');
  const [message] = await healthy.fetch({ stream: 'canary', consumer: 'canary' }, { expiresMs: 2_000 });
  assert.equal(message?.string(), 'tweet');
  assert.equal(await message?.ackConfirmed(), 'acked');
}

function frameBytes(type: number, flags: number, requestId: number, payload: Uint8Array): Buffer {
  const bytes = Buffer.alloc(10 + payload.length);
  bytes.writeUInt32BE(6 + payload.length, 0);
  bytes[4] = type;
  bytes[5] = flags;
  bytes.writeUInt32BE(requestId, 6);
  bytes.set(payload, 10);
  return bytes;
}

test('random frames after the handshake: answered or closed with a fatal error, nothing else affected', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.uint8Array({ maxLength: 300 }),
      async (type, flags, requestId, payload) => {
        const raw = await RawConnection.open(broker.port);
        raw.socket.write(frameBytes(type, flags, requestId, payload));
        // Whatever that was, a PING afterwards gets its PONG unless the connection was closed.
        raw.send({ kind: 'ping', requestId: 7 });
        const answer = await Promise.race([
          raw.next((frame) => frame.kind === 'pong' && frame.requestId === 7).then(() => 'pong' as const),
          raw.closed.then(() => 'closed' as const),
        ]);
        if (answer === 'closed') {
          const fatal = raw.frames.find((frame) => frame.kind === 'error' && frame.fatal);
          assert.ok(fatal !== undefined, `closed without a fatal error frame (type 0x${type.toString(16)})`);
        }
        raw.socket.destroy();
        await raw.closed;
      },
    ),
    { numRuns: 150 },
  );
  await canaryWorks();
});

test('random bytes instead of a handshake close only that connection', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
      const raw = await RawConnection.open(broker.port, false);
      raw.socket.end(Buffer.from(bytes));
      await raw.closed;
    }),
    { numRuns: 100 },
  );
  await canaryWorks();
});

test('an oversized frame is refused with WEIR_FRAME_TOO_LARGE and the connection closed', async () => {
  const raw = await RawConnection.open(broker.port);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(1024 * 1024);
  raw.socket.write(prefix);
  const error = await raw.next((frame) => frame.kind === 'error');
  assert.ok(error.kind === 'error' && error.fatal && error.code === ErrorCode.FrameTooLarge);
  await raw.closed;
  await canaryWorks();
});

test('a reserved frame type (transaction begin) is answered WEIR_NOT_SUPPORTED and the connection stays', async () => {
  const raw = await RawConnection.open(broker.port);
  raw.send({ kind: 'unsupported', requestId: 3, type: FrameType.transactionBegin });
  const error = await raw.next((frame) => frame.kind === 'error');
  assert.ok(
    error.kind === 'error' && !error.fatal && error.code === ErrorCode.NotSupported && error.requestId === 3,
  );
  raw.send({ kind: 'ping', requestId: 4 });
  await raw.next((frame) => frame.kind === 'pong');
  raw.socket.destroy();
});

test('a frame before HELLO is a fatal protocol error', async () => {
  const raw = await RawConnection.open(broker.port, false);
  raw.send({ kind: 'ping', requestId: 1 });
  const error = await raw.next((frame) => frame.kind === 'error');
  assert.ok(error.kind === 'error' && error.fatal && error.code === ErrorCode.ProtocolError);
  await raw.closed;
});
