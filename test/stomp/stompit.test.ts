// stompit over TCP: the Node STOMP client many ActiveMQ users run, against Weir.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import stompit from 'stompit';
import type { Client, Message } from 'stompit';
import { Inbox } from './clients.js';
import { startStompHarness, type StompHarness } from './harness.js';

let harness: StompHarness;
before(async () => {
  harness = await startStompHarness();
});
after(async () => {
  await harness.close();
});

function connect(headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    stompit.connect(
      {
        host: '127.0.0.1',
        port: harness.tcpPort,
        connectHeaders: { host: '/', 'heart-beat': '0,0', ...headers },
      },
      (error, client) => (error ? reject(error) : resolve(client)),
    );
  });
}

function sendWithReceipt(client: Client, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve) => {
    const frame = client.send(headers, { onReceipt: resolve });
    frame.end(body);
  });
}

interface Received {
  readonly message: Message;
  readonly body: string;
}

/** stompit parses the next frame only once a message body is read, so read it at once. */
function collect(inbox: Inbox<Received>): (error: Error | null, message: Message) => void {
  return (error, message) => {
    if (error !== null) return;
    message.readString('utf-8', (readError, body) => {
      if (readError === null) inbox.push({ message, body: body ?? '' });
    });
  };
}

test('stompit: send with receipt, subscribe client-individual, ack', async () => {
  const producer = await connect();
  const consumer = await connect();
  assert.equal(consumer.headers['version'], '1.2');
  const inbox = new Inbox<Received>();
  consumer.subscribe({ destination: '/queue/stompit', ack: 'client-individual' }, collect(inbox));
  for (let index = 0; index < 5; index++) {
    await sendWithReceipt(
      producer,
      { destination: '/queue/stompit', 'x-index': String(index) },
      `body ${index}`,
    );
  }
  for (let index = 0; index < 5; index++) {
    const { message, body } = await inbox.next();
    assert.equal(message.headers['x-index'], String(index));
    assert.equal(body, `body ${index}`);
    consumer.ack(message);
  }
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
});

test('stompit: STOMP 1.0 and 1.1 sessions', async () => {
  for (const version of ['1.0', '1.1']) {
    const client = await connect({ 'accept-version': version });
    assert.equal(client.headers['version'], version);
    const inbox = new Inbox<Received>();
    client.subscribe({ destination: `/queue/old${version}`, id: 's', ack: 'client' }, collect(inbox));
    await sendWithReceipt(client, { destination: `/queue/old${version}` }, 'old');
    const { message, body } = await inbox.next();
    assert.equal(body, 'old');
    client.ack(message);
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  }
});
