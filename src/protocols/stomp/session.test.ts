// The connection state machine over an in-memory duplex, with a ManualClock: handshake,
// errors that end the connection, heart-beats. Queue and topic behaviour is tested with the
// real core and real clients under test/stomp/.
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import type { CoreSession } from '../../core/api.js';
import { AuthenticationFailedError, type Authenticator } from '../../core/auth.js';
import { StompParser, type StompFrame, header } from './codec/index.js';
import type { StompCore } from './core-admin.js';
import { createStompServerWith, parseStompOptions } from './server.js';

function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
      destroy(error, callback) {
        const peer = other();
        if (!peer.destroyed) peer.destroy();
        callback(error);
      },
    });
  sides.push(
    make(() => sides[1]!),
    make(() => sides[0]!),
  );
  return [sides[0]!, sides[1]!];
}

const session = {
  id: 's',
  close: () => Promise.resolve(),
  beginTransaction: () => ({
    id: 't',
    publish: () => undefined,
    ack: () => undefined,
    commit: () => Promise.resolve([]),
    abort: () => Promise.resolve(),
  }),
} as unknown as CoreSession;

const core: StompCore = {
  openSession: () => session,
  ensureQueue: () => Promise.reject(new Error('not in this test')),
  ensureDurableSubscription: () => Promise.reject(new Error('not in this test')),
  deleteDurableSubscription: () => Promise.resolve(false),
};

const authenticator: Authenticator = {
  authenticate: (request) =>
    request.username === 'bad'
      ? Promise.reject(new AuthenticationFailedError('bad credentials'))
      : Promise.resolve({
          name: request.username ?? 'anonymous',
          anonymous: request.username === undefined,
          protocol: 'stomp',
        }),
};

interface Client {
  send(text: string | Buffer): void;
  next(): Promise<StompFrame>;
  closed: Promise<void>;
  heartBeats(): number;
}

function start(clock = new ManualClock()): { client: Client; clock: ManualClock } {
  const server = createStompServerWith(
    {
      core,
      authenticator,
      logger: silentLogger,
      clock,
      limits: { connectionsMax: 10, frameBytesMax: 1024 * 1024, messageBytesMax: 1024 * 1024 },
      options: {},
    },
    core,
  );
  const [serverSide, clientSide] = duplexPair();
  server.handleConnection(serverSide, {
    remoteAddress: '127.0.0.1',
    remotePort: 1,
    transport: 'in-process',
    loopback: true,
  });
  const parser = new StompParser();
  parser.setVersion('1.2');
  const frames: StompFrame[] = [];
  const waiting: ((frame: StompFrame) => void)[] = [];
  let heartBeats = 0;
  clientSide.on('data', (chunk: Buffer) => {
    const result = parser.push(chunk);
    heartBeats += result.heartBeats;
    for (const frame of result.frames) {
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(frame);
      else frames.push(frame);
    }
  });
  const closed = new Promise<void>((resolve) => {
    clientSide.on('end', resolve);
    clientSide.on('close', resolve);
  });
  return {
    clock,
    client: {
      send: (text) => clientSide.write(text),
      next: () => {
        const frame = frames.shift();
        return frame !== undefined ? Promise.resolve(frame) : new Promise((resolve) => waiting.push(resolve));
      },
      closed,
      heartBeats: () => heartBeats,
    },
  };
}

const connect12 = 'CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\n\n\0';

test('CONNECT negotiates the highest common version', async () => {
  const { client } = start();
  client.send('CONNECT\naccept-version:1.0,1.1\nhost:/\nheart-beat:0,0\n\n\0');
  const connected = await client.next();
  assert.equal(connected.command, 'CONNECTED');
  assert.equal(header(connected, 'version'), '1.1');
  assert.equal(header(connected, 'heart-beat'), '10000,10000');
  assert.ok(header(connected, 'session'));
});

test('a CONNECT with no accept-version is STOMP 1.0', async () => {
  const { client } = start();
  client.send('CONNECT\n\n\0');
  assert.equal(header(await client.next(), 'version'), '1.0');
});

test('no common version: ERROR with the versions the server speaks, then close', async () => {
  const { client } = start();
  client.send('CONNECT\naccept-version:2.0\n\n\0');
  const error = await client.next();
  assert.equal(error.command, 'ERROR');
  assert.equal(header(error, 'version'), '1.2,1.1,1.0');
  assert.ok(header(error, 'message'));
  await client.closed;
});

test('errors end the connection with an ERROR frame that explains', async () => {
  const cases: [string, string, RegExp][] = [
    ['SEND\ndestination:/queue/a\n\n\0', 'malformed frame', /expected CONNECT/],
    [`${connect12}BOGUS\n\n\0`, 'malformed frame', /unknown command/],
    [`${connect12}SEND\nx:\\t\n\n\0`, 'malformed frame', /escape/],
    [`${connect12}SEND\nreceipt:r1\n\nhi\0`, 'malformed frame', /destination/],
    [`${connect12}SEND\ndestination:/exchange/x\n\nhi\0`, 'not supported', /unknown destination/],
    [`${connect12}SEND\ndestination:/queue/a b\n\nhi\0`, 'invalid destination', /invalid destination/],
    [`${connect12}SUBSCRIBE\ndestination:/queue/a\n\n\0`, 'malformed frame', /'id'/],
    [`${connect12}SUBSCRIBE\nid:1\ndestination:/queue/a\nselector:a = 1\n\n\0`, 'not supported', /selector/],
    [`${connect12}ACK\nid:nope\n\n\0`, 'stale acknowledgement', /nope/],
    [`${connect12}COMMIT\ntransaction:t\n\n\0`, 'unknown transaction', /not open/],
    [
      `${connect12}SEND\ndestination:/queue/a\ncontent-length:${2 * 1024 * 1024}\n\n`,
      'frame too large',
      /exceeds/,
    ],
    [`${connect12}CONNECT\naccept-version:1.2\n\n\0`, 'malformed frame', /already connected/],
    [`${connect12}MESSAGE\n\n\0`, 'malformed frame', /server frame/],
    ['CONNECT\naccept-version:1.2\nlogin:bad\npasscode:x\n\n\0', 'authentication failed', /bad credentials/],
    ['CONNECT\naccept-version:1.2\nheart-beat:soon\n\n\0', 'malformed frame', /heart-beat/],
  ];
  for (const [input, message, body] of cases) {
    const { client } = start();
    client.send(input);
    let frame = await client.next();
    if (frame.command === 'CONNECTED') frame = await client.next();
    assert.equal(frame.command, 'ERROR', input);
    assert.equal(header(frame, 'message'), message, input);
    assert.match(frame.body.toString(), body, input);
    await client.closed;
  }
});

test('an ERROR for a frame with a receipt carries receipt-id', async () => {
  const { client } = start();
  client.send(`${connect12}SUBSCRIBE\nreceipt:77\ndestination:/nowhere\nid:1\n\n\0`);
  await client.next();
  const error = await client.next();
  assert.equal(header(error, 'receipt-id'), '77');
});

test('BEGIN, ABORT and a receipt for each', async () => {
  const { client } = start();
  client.send(`${connect12}BEGIN\ntransaction:t1\nreceipt:a\n\n\0ABORT\ntransaction:t1\nreceipt:b\n\n\0`);
  await client.next();
  assert.equal(header(await client.next(), 'receipt-id'), 'a');
  assert.equal(header(await client.next(), 'receipt-id'), 'b');
});

test('DISCONNECT gets its RECEIPT, then the server closes', async () => {
  const { client } = start();
  client.send(`${connect12}DISCONNECT\nreceipt:bye\n\n\0`);
  await client.next();
  assert.equal(header(await client.next(), 'receipt-id'), 'bye');
  await client.closed;
});

test('heart-beats: the server sends when idle and drops a silent client', async () => {
  const { client, clock } = start();
  client.send('CONNECT\naccept-version:1.2\nheart-beat:10000,10000\n\n\0');
  await client.next();
  clock.advance(10_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(client.heartBeats(), 1);
  client.send('\n');
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(15_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(client.heartBeats(), 2);
  // Silent for twice the interval: the server gives up.
  clock.advance(20_000);
  const error = await client.next();
  assert.equal(error.command, 'ERROR');
  assert.match(error.body.toString(), /heart-beat/);
  await client.closed;
});

test('a connection that never sends CONNECT is closed', async () => {
  const { client, clock } = start();
  clock.advance(10_000);
  assert.equal((await client.next()).command, 'ERROR');
  await client.closed;
});

test('connections past the limit are refused with an ERROR; close() ends the rest', async () => {
  const clock = new ManualClock();
  const server = createStompServerWith(
    {
      core,
      authenticator,
      logger: silentLogger,
      clock,
      limits: { connectionsMax: 1, frameBytesMax: 1024, messageBytesMax: 1024 },
      options: {},
    },
    core,
  );
  const info = {
    remoteAddress: '127.0.0.1',
    remotePort: 1,
    transport: 'in-process',
    loopback: true,
  } as const;
  const [firstServer, firstClient] = duplexPair();
  server.handleConnection(firstServer, info);
  const firstData: Buffer[] = [];
  firstClient.on('data', (chunk: Buffer) => firstData.push(chunk));
  firstClient.write(connect12);
  await new Promise((resolve) => setImmediate(resolve));
  const [secondServer, secondClient] = duplexPair();
  const secondData: Buffer[] = [];
  secondClient.on('data', (chunk: Buffer) => secondData.push(chunk));
  const secondEnded = new Promise((resolve) => secondClient.on('end', resolve));
  server.handleConnection(secondServer, info);
  await secondEnded;
  assert.match(Buffer.concat(secondData).toString(), /^ERROR\nmessage:limit exceeded/);
  const firstEnded = new Promise((resolve) => firstClient.on('end', resolve));
  await server.close();
  await firstEnded;
  assert.match(Buffer.concat(firstData).toString(), /ERROR\nmessage:connection closed/);
});

test('options are validated', () => {
  assert.throws(() => parseStompOptions({ heartBeatIntervalMs: 5 }), /heartBeatIntervalMs/);
  assert.throws(() => parseStompOptions({ bogus: 1 }), /bogus/);
  assert.throws(() => parseStompOptions({ virtualHosts: [1] }), /virtualHosts/);
  assert.deepEqual(parseStompOptions({ heartBeatIntervalMs: 0, virtualHosts: ['/'] }), {
    heartBeatIntervalMs: 0,
    virtualHosts: ['/'],
  });
});

test('virtual hosts: an unknown host is refused when the list is configured', async () => {
  const server = createStompServerWith(
    {
      core,
      authenticator,
      logger: silentLogger,
      clock: new ManualClock(),
      limits: { connectionsMax: 10, frameBytesMax: 1024, messageBytesMax: 1024 },
      options: { virtualHosts: ['/'] },
    },
    core,
  );
  const [serverSide, clientSide] = duplexPair();
  server.handleConnection(serverSide, {
    remoteAddress: '',
    remotePort: 0,
    transport: 'in-process',
    loopback: true,
  });
  const data: Buffer[] = [];
  clientSide.on('data', (chunk: Buffer) => data.push(chunk));
  const ended = new Promise((resolve) => clientSide.on('end', resolve));
  clientSide.write('CONNECT\naccept-version:1.2\nhost:elsewhere\n\n\0');
  await ended;
  assert.match(Buffer.concat(data).toString(), /unknown virtual host 'elsewhere'/);
});
