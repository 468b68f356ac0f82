// Raw STOMP frames over TCP: the cases client libraries will not produce (malformed and
// oversized frames, pipelining behind CONNECT, escapes, NUL bodies), and what a RECEIPT
// promises.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
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

function raw(): Promise<RawClient> {
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
    parser.setVersion('1.2');
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
    frames += `SEND\ndestination:/queue/order\nreceipt:${index}\n\nm\0`;
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
  // RECEIPTs wait for the fsync; the MESSAGE may come before them.
  let message = await client.frames.next();
  while (message.command !== 'MESSAGE') message = await client.frames.next();
  assert.equal(message.body.toString(), 'fresh');
  let receipts = 0;
  while (receipts < 2) if ((await client.frames.next()).command === 'RECEIPT') receipts++;
  assert.ok(Number(header(message, 'expires')) > Date.now());
  assert.ok(await client.frames.quiet());
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
