// Raw STOMP frames over TCP: the cases client libraries will not produce (malformed and
// oversized frames, pipelining behind CONNECT, escapes, NUL bodies), and what a RECEIPT
// promises.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { StompParser, header, type StompFrame } from '../../src/protocols/stomp/codec/index.js';
import { encodeName } from '../../src/protocols/stomp/core-binding.js';
import { Inbox } from './clients.js';
import { startStompHarness, type StompHarness } from './harness.js';

let harness: StompHarness;
before(async () => {
  harness = await startStompHarness();
});
after(async () => {
  await harness.close();
});

interface RawClient {
  write(data: string | Buffer): void;
  frames: Inbox<StompFrame>;
  closed: Promise<void>;
  destroy(): void;
}

function raw(version: '1.0' | '1.2' = '1.2'): Promise<RawClient> {
  return new Promise((resolve) => {
    const socket = net.connect(harness.tcpPort, '127.0.0.1', () =>
      resolve({
        write: (data) => socket.write(data),
        frames,
        closed,
        destroy: () => socket.destroy(),
      }),
    );
    const parser = new StompParser();
    parser.setVersion(version);
    const frames = new Inbox<StompFrame>();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of parser.push(chunk).frames) frames.push(frame);
    });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
  });
}

const connect = 'CONNECT\naccept-version:1.2\nhost:/\n\n\0';

test('frames pipelined behind CONNECT are read with 1.2 escaping', async () => {
  const client = await raw();
  client.write(
    `${connect}SUBSCRIBE\nid:0\ndestination:/queue/pipe\nreceipt:s\n\n\0` +
      'SEND\ndestination:/queue/pipe\nx-odd:a\\cb\\\\c\\nd\\re\n\nbody\0',
  );
  assert.equal((await client.frames.next()).command, 'CONNECTED');
  assert.equal(header(await client.frames.next(), 'receipt-id'), 's');
  const message = await client.frames.next();
  assert.equal(header(message, 'x-odd'), 'a:b\\c\nd\re');
  assert.equal(message.body.toString(), 'body');
  client.destroy();
});

test('a content-length body with NUL bytes arrives whole', async () => {
  const client = await raw();
  const body = Buffer.from([0, 0, 7, 0]);
  client.write(connect);
  client.write(`SUBSCRIBE\nid:0\ndestination:/queue/nul\n\n\0`);
  client.write(
    Buffer.concat([
      Buffer.from('SEND\ndestination:/queue/nul\ncontent-length:4\n\n'),
      body,
      Buffer.from([0]),
    ]),
  );
  await client.frames.next();
  const message = await client.frames.next();
  assert.ok(message.body.equals(body));
  assert.equal(header(message, 'content-length'), '4');
  client.destroy();
});

test('the RECEIPT of a SEND comes once the message is stored', async () => {
  const client = await raw();
  client.write(`${connect}SEND\ndestination:/queue/durable\nreceipt:r\n\nkeep me\0`);
  await client.frames.next();
  assert.equal(header(await client.frames.next(), 'receipt-id'), 'r');
  const info = harness.core.core.streamInfo(encodeName('durable'));
  assert.equal(info.messages, 1);
  client.destroy();
});

test('RECEIPTs keep frame order behind pending confirms', async () => {
  const client = await raw();
  let frames = connect;
  for (let index = 0; index < 50; index++) {
    frames += `SEND\ndestination:/queue/order${index % 3}\nreceipt:${index}\n\nm\0`;
    frames += `BEGIN\ntransaction:t${index}\nreceipt:b${index}\n\n\0ABORT\ntransaction:t${index}\n\n\0`;
  }
  client.write(frames);
  await client.frames.next();
  for (let index = 0; index < 50; index++) {
    assert.equal(header(await client.frames.next(), 'receipt-id'), String(index));
    assert.equal(header(await client.frames.next(), 'receipt-id'), `b${index}`);
  }
  client.destroy();
});

test('malformed, oversized and unknown frames: ERROR with message and body, then close', async () => {
  const cases: [string | Buffer, string][] = [
    [`${connect}HELLO\n\n\0`, 'malformed frame'],
    [`${connect}SEND\ndestination:/queue/a\ncontent-length:x\n\n\0`, 'malformed frame'],
    [
      Buffer.concat([
        Buffer.from(`${connect}SEND\ndestination:/queue/a\n\n`),
        Buffer.alloc(5 * 1024 * 1024, 97),
      ]),
      'frame too large',
    ],
    [`${connect}SEND\n${'h:v\n'.repeat(300)}\n\0`, 'frame too large'],
    [`${connect}SEND\ndestination:/amq/queue/a\n\nx\0`, 'not supported'],
    [`${connect}SUBSCRIBE\nid:1\ndestination:/topic/a\nselector:a = = 1\n\n\0`, 'invalid selector'],
    [`${connect}SEND\ndestination:/queue/a\nAMQ_SCHEDULED_PERIOD:1000\n\nx\0`, 'not supported'],
    [`${connect}SEND\ndestination:/queue/a\npriority:12\n\nx\0`, 'invalid header'],
    [`${connect}SUBSCRIBE\nid:1\ndestination:/topic/a\nactivemq.subscriptionName:s\n\n\0`, 'malformed frame'],
    [`${connect}UNSUBSCRIBE\nid:nothing\n\n\0`, 'malformed frame'],
  ];
  for (const [input, message] of cases) {
    const client = await raw();
    client.write(input);
    let frame = await client.frames.next();
    if (frame.command === 'CONNECTED') frame = await client.frames.next();
    assert.equal(frame.command, 'ERROR', String(input).slice(0, 80));
    assert.equal(header(frame, 'message'), message, String(input).slice(0, 80));
    assert.ok(frame.body.length > 0);
    await client.closed;
  }
});

test('an expired message is not delivered', async () => {
  const client = await raw();
  client.write(
    `${connect}SEND\ndestination:/queue/expiring\nexpires:${Date.now() - 1000}\nreceipt:1\n\nold\0` +
      `SEND\ndestination:/queue/expiring\nexpiration:60000\nreceipt:2\n\nfresh\0` +
      `SUBSCRIBE\nid:0\ndestination:/queue/expiring\n\n\0`,
  );
  // RECEIPTs wait for the fsync; the MESSAGE may come before or after them.
  let receipts = 0;
  let message: StompFrame | undefined;
  while (message === undefined || receipts < 2) {
    const frame = await client.frames.next();
    if (frame.command === 'RECEIPT') receipts++;
    else if (frame.command === 'MESSAGE') message = frame;
  }
  assert.equal(message.body.toString(), 'fresh');
  assert.ok(Number(header(message, 'expires')) > Date.now());
  assert.ok(await client.frames.quiet());
  client.destroy();
});

test('a delay header delays queue delivery (both dialects)', async () => {
  const client = await raw();
  client.write(
    `${connect}SUBSCRIBE\nid:0\ndestination:/queue/later\nreceipt:s\n\n\0` +
      `SEND\ndestination:/queue/later\nAMQ_SCHEDULED_DELAY:300\nreceipt:1\n\nfirst\0` +
      `SEND\ndestination:/queue/later\nx-delay:300\nreceipt:2\n\nsecond\0`,
  );
  await client.frames.next();
  const sentAt = Date.now();
  const bodies: string[] = [];
  while (bodies.length < 2) {
    const frame = await client.frames.next();
    if (frame.command === 'MESSAGE') bodies.push(frame.body.toString());
  }
  assert.ok(Date.now() - sentAt >= 250);
  assert.deepEqual(bodies.sort(), ['first', 'second']);
  client.destroy();
});

test('selectors on live and durable topic subscriptions', async () => {
  const client = await raw();
  client.write(
    `${connect}SUBSCRIBE\nid:live\ndestination:/topic/sel.live\nselector:region = 'eu' AND JMSPriority > 5\nreceipt:a\n\n\0` +
      `SUBSCRIBE\nid:dur\ndestination:/topic/sel.durable\ndurable:true\nselector:region = 'eu'\nreceipt:b\n\n\0`,
  );
  await client.frames.next();
  await client.frames.next();
  await client.frames.next();
  client.write(
    `SEND\ndestination:/topic/sel.live\nregion:us\npriority:9\n\nno\0` +
      `SEND\ndestination:/topic/sel.live\nregion:eu\npriority:1\n\nno\0` +
      `SEND\ndestination:/topic/sel.live\nregion:eu\npriority:9\n\nyes live\0` +
      `SEND\ndestination:/topic/sel.durable\nregion:us\nreceipt:1\n\nno\0` +
      `SEND\ndestination:/topic/sel.durable\nregion:eu\nreceipt:2\n\nyes durable\0`,
  );
  const bodies: string[] = [];
  while (bodies.length < 2) {
    const frame = await client.frames.next();
    if (frame.command === 'MESSAGE') bodies.push(frame.body.toString());
  }
  assert.deepEqual(bodies.sort(), ['yes durable', 'yes live']);
  // Whatever else arrives (RECEIPTs) holds no further MESSAGE.
  for (;;) {
    const frame = await client.frames.next(300).catch(() => undefined);
    if (frame === undefined) break;
    assert.notEqual(frame.command, 'MESSAGE', frame.body.toString());
  }
  client.destroy();
});

test('a delay header on a topic delays live delivery', async () => {
  const client = await raw();
  client.write(
    `${connect}SUBSCRIBE\nid:0\ndestination:/topic/later\nreceipt:s\n\n\0` +
      `SEND\ndestination:/topic/later\nx-delay:300\n\nlater\0`,
  );
  await client.frames.next();
  await client.frames.next();
  const sentAt = Date.now();
  const message = await client.frames.next();
  assert.ok(Date.now() - sentAt >= 250);
  assert.equal(message.body.toString(), 'later');
  client.destroy();
});

test('login and passcode go through the authenticator', async () => {
  const good = await raw();
  good.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
  assert.equal((await good.frames.next()).command, 'CONNECTED');
  good.destroy();
  for (const [login, passcode] of [
    ['guest', 'wrong'],
    ['alice', 'secret'],
  ]) {
    const bad = await raw();
    bad.write(
      `CONNECT\naccept-version:1.2\nhost:/\nlogin:${login}\npasscode:${passcode}\n\n\0SEND\ndestination:/queue/a\n\nx\0`,
    );
    const error = await bad.frames.next();
    assert.equal(error.command, 'ERROR');
    assert.equal(header(error, 'message'), 'authentication failed');
    await bad.closed;
  }
});

test('STOMP 1.0 frames: no escaping, spaces trimmed, message-id acks', async () => {
  const client = await raw('1.0');
  client.write(
    'CONNECT\n\n\0SUBSCRIBE\ndestination: /queue/old10\nack: client\n\n\0' +
      'SEND\ndestination: /queue/old10\nx-path: C:\\dir\n\nten\0',
  );
  assert.equal(header(await client.frames.next(), 'version'), '1.0');
  const message = await client.frames.next();
  assert.equal(header(message, 'x-path'), 'C:\\dir');
  assert.equal(header(message, 'subscription'), '/queue/old10');
  assert.equal(header(message, 'ack'), undefined);
  client.write(`ACK\nmessage-id:${header(message, 'message-id') ?? ''}\nreceipt:a\n\n\0`);
  assert.equal(header(await client.frames.next(), 'receipt-id'), 'a');
  client.destroy();
});

test('over WebSocket every message holds whole frames', async () => {
  const socket = new WebSocket(harness.wsUrl, ['v12.stomp']);
  const messages = new Inbox<Buffer>();
  socket.on('message', (data: Buffer) => messages.push(data));
  await new Promise((resolve) => socket.once('open', resolve));
  assert.equal(socket.protocol, 'v12.stomp');
  socket.send(`${connect}SUBSCRIBE\nid:0\ndestination:/queue/ws-frames\n\n\0`);
  socket.send(Buffer.from(`SEND\ndestination:/queue/ws-frames\nx-a:1\n\n${'b'.repeat(3000)}\0`));
  for (let index = 0; index < 2; index++) {
    const data = await messages.next();
    assert.equal(data[data.length - 1], 0, 'a WebSocket message ends with a frame');
    const parser = new StompParser();
    parser.setVersion('1.2');
    const result = parser.push(data);
    assert.equal(result.frames.length, 1);
    assert.equal(parser.bufferedBytes, 0);
  }
  socket.close();
});

test('transactions: live sends wait for COMMIT, an aborted ACK is redelivered, a committed NACK redelivers', async () => {
  const client = await raw();
  client.write(
    `${connect}SUBSCRIBE\nid:t\ndestination:/topic/tx.live\n\n\0` +
      `SUBSCRIBE\nid:q\ndestination:/queue/tx.q\nack:client-individual\n\n\0` +
      `BEGIN\ntransaction:t1\n\n\0SEND\ndestination:/topic/tx.live\ntransaction:t1\n\nlive\0` +
      `SEND\ndestination:/queue/tx.q\ntransaction:t1\n\nstored\0SEND\ndestination:/queue/tx.q\nreceipt:sync\n\nplain\0`,
  );
  const next = async (command: string): Promise<StompFrame> => {
    for (;;) {
      const frame = await client.frames.next();
      if (frame.command === command) return frame;
    }
  };
  // Only the message outside the transaction is visible before COMMIT.
  const plain = await next('MESSAGE');
  assert.equal(plain.body.toString(), 'plain');
  client.write(`COMMIT\ntransaction:t1\nreceipt:c1\n\n\0`);
  const seen: string[] = [];
  let stored: StompFrame | undefined;
  while (seen.length < 2) {
    const frame = await next('MESSAGE');
    seen.push(frame.body.toString());
    if (frame.body.toString() === 'stored') stored = frame;
  }
  assert.deepEqual(seen.sort(), ['live', 'stored']);
  assert.ok(stored !== undefined);
  // ACK inside a transaction that is aborted: the message comes back.
  client.write(
    `BEGIN\ntransaction:t2\n\n\0ACK\nid:${header(stored, 'ack') ?? ''}\ntransaction:t2\n\n\0ABORT\ntransaction:t2\n\n\0`,
  );
  const again = await next('MESSAGE');
  assert.equal(again.body.toString(), 'stored');
  assert.equal(header(again, 'redelivered'), 'true');
  // NACK inside a committed transaction: redelivered after the COMMIT.
  client.write(
    `BEGIN\ntransaction:t3\n\n\0NACK\nid:${header(again, 'ack') ?? ''}\ntransaction:t3\n\n\0COMMIT\ntransaction:t3\n\n\0`,
  );
  const third = await next('MESSAGE');
  assert.equal(third.body.toString(), 'stored');
  client.write(
    `ACK\nid:${header(third, 'ack') ?? ''}\nreceipt:done\n\n\0ACK\nid:${header(plain, 'ack') ?? ''}\n\n\0`,
  );
  assert.equal(header(await next('RECEIPT'), 'receipt-id'), 'done');
  client.destroy();
});

test('temporary queues hold replies until delivered, with the ack mode of their SUBSCRIBE', async () => {
  const requester = await raw();
  const responder = await raw();
  responder.write(`${connect}SUBSCRIBE\nid:0\ndestination:/queue/tmp.requests\nreceipt:s\n\n\0`);
  await responder.frames.next();
  await responder.frames.next();
  requester.write(
    `${connect}SUBSCRIBE\nid:replies\ndestination:/temp-queue/r\nack:client-individual\nreceipt:t\n\n\0` +
      `SEND\ndestination:/queue/tmp.requests\nreply-to:/temp-queue/r\n\nping\0`,
  );
  const request = await responder.frames.next();
  const replyTo = header(request, 'reply-to') ?? '';
  assert.match(replyTo, /^\/reply-queue\/\$TMPQ\./);
  responder.write(
    `SEND\ndestination:${replyTo}\nreceipt:r1\n\npong 1\0SEND\ndestination:${replyTo}\n\npong 2\0`,
  );
  const bodies: string[] = [];
  while (bodies.length < 2) {
    const frame = await requester.frames.next();
    if (frame.command !== 'MESSAGE') continue;
    assert.equal(header(frame, 'subscription'), 'replies');
    assert.ok(header(frame, 'ack'));
    bodies.push(frame.body.toString());
    requester.write(`ACK\nid:${header(frame, 'ack') ?? ''}\n\n\0`);
  }
  assert.deepEqual(bodies, ['pong 1', 'pong 2']);
  requester.destroy();
  responder.destroy();
});
