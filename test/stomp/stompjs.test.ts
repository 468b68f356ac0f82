// @stomp/stompjs against Weir over WebSocket and TCP: queues, topics, durable
// subscriptions in both dialects, temporary queues, transactions, ack modes, binary bodies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Inbox,
  connectStompJs,
  publishWithReceipt,
  subscribeWithReceipt,
  type Transport,
} from './clients.js';
import { startStompHarness, type StompHarness } from './harness.js';

let harness: StompHarness;
before(async () => {
  harness = await startStompHarness();
});
after(async () => {
  await harness.close();
});

let sequence = 0;
const unique = (prefix: string): string => `${prefix}${++sequence}x${Date.now().toString(36)}`;

for (const kind of ['websocket', 'tcp'] as const) {
  const transport = (): Transport =>
    kind === 'websocket' ? { ws: harness.wsUrl } : { tcp: harness.tcpPort };

  describe(`stompjs over ${kind}`, () => {
    test('queue: receipted SEND, client-individual ack, headers survive', async () => {
      const queue = `/queue/${unique('q')}`;
      const producer = await connectStompJs(transport());
      const consumer = await connectStompJs(transport());
      assert.equal(producer.connected.headers['version'], '1.2');
      const { inbox } = await subscribeWithReceipt(consumer.client, queue, { ack: 'client-individual' });
      const receipt = await publishWithReceipt(producer.client, queue, 'hello', {
        'content-type': 'text/plain',
        'correlation-id': 'c-1',
        priority: '7',
        'x-custom': 'a:b',
        persistent: 'true',
      });
      assert.ok(receipt.headers['receipt-id']);
      const message = await inbox.next();
      assert.equal(message.body, 'hello');
      assert.equal(message.headers['destination'], queue);
      assert.equal(message.headers['content-type'], 'text/plain');
      assert.equal(message.headers['correlation-id'], 'c-1');
      assert.equal(message.headers['priority'], '7');
      assert.equal(message.headers['x-custom'], 'a:b');
      assert.ok(message.headers['ack']);
      message.ack();
      await producer.close();
      await consumer.close();
    });

    test('queue: competing consumers share, unacked messages are redelivered', async () => {
      const queue = `/queue/${unique('q')}`;
      const producer = await connectStompJs(transport());
      const first = await connectStompJs(transport());
      const { inbox } = await subscribeWithReceipt(first.client, queue, { ack: 'client-individual' });
      for (let index = 0; index < 3; index++) await publishWithReceipt(producer.client, queue, `m${index}`);
      const received = [await inbox.next(), await inbox.next(), await inbox.next()];
      assert.deepEqual(
        received.map((message) => message.body),
        ['m0', 'm1', 'm2'],
      );
      received[1]?.ack();
      await first.close();
      const second = await connectStompJs(transport());
      const again = await subscribeWithReceipt(second.client, queue, { ack: 'client-individual' });
      const redelivered = [await again.inbox.next(), await again.inbox.next()];
      assert.deepEqual(redelivered.map((message) => message.body).sort(), ['m0', 'm2']);
      assert.equal(redelivered[0]?.headers['redelivered'], 'true');
      assert.ok(await again.inbox.quiet());
      for (const message of redelivered) message.ack();
      await producer.close();
      await second.close();
    });

    test('ack:client is cumulative', async () => {
      const queue = `/queue/${unique('q')}`;
      const client = await connectStompJs(transport());
      const { inbox } = await subscribeWithReceipt(client.client, queue, { ack: 'client' });
      for (let index = 0; index < 3; index++) await publishWithReceipt(client.client, queue, `m${index}`);
      await inbox.next();
      await inbox.next();
      const third = await inbox.next();
      third.ack();
      await publishWithReceipt(client.client, queue, 'sync');
      await inbox.next();
      await client.close();
      const other = await connectStompJs(transport());
      const again = await subscribeWithReceipt(other.client, queue, { ack: 'client' });
      // Only the unacked 'sync' message comes back.
      assert.equal((await again.inbox.next()).body, 'sync');
      assert.ok(await again.inbox.quiet());
      await other.close();
    });

    test('NACK redelivers', async () => {
      const queue = `/queue/${unique('q')}`;
      const client = await connectStompJs(transport());
      const { inbox } = await subscribeWithReceipt(client.client, queue, { ack: 'client-individual' });
      await publishWithReceipt(client.client, queue, 'again');
      (await inbox.next()).nack();
      const redelivered = await inbox.next();
      assert.equal(redelivered.body, 'again');
      assert.equal(redelivered.headers['redelivered'], 'true');
      redelivered.ack();
      await client.close();
    });

    test('prefetch-count bounds unacked deliveries', async () => {
      const queue = `/queue/${unique('q')}`;
      const client = await connectStompJs(transport());
      const { inbox } = await subscribeWithReceipt(client.client, queue, {
        ack: 'client-individual',
        'prefetch-count': '1',
      });
      for (let index = 0; index < 3; index++) await publishWithReceipt(client.client, queue, `m${index}`);
      const first = await inbox.next();
      assert.ok(await inbox.quiet());
      first.ack();
      (await inbox.next()).ack();
      (await inbox.next()).ack();
      await client.close();
    });

    test('topic fan-out to live subscribers, with wildcards', async () => {
      const topic = unique('news');
      const publisher = await connectStompJs(transport());
      const one = await connectStompJs(transport());
      const two = await connectStompJs(transport());
      const a = await subscribeWithReceipt(one.client, `/topic/${topic}.*`);
      const b = await subscribeWithReceipt(two.client, `/topic/${topic}.>`);
      await publishWithReceipt(publisher.client, `/topic/${topic}.eu`, 'hi');
      const [got, gotToo] = [await a.inbox.next(), await b.inbox.next()];
      assert.equal(got.body, 'hi');
      assert.equal(got.headers['destination'], `/topic/${topic}.eu`);
      assert.equal(gotToo.body, 'hi');
      await Promise.all([publisher.close(), one.close(), two.close()]);
    });

    test('durable subscription, RabbitMQ dialect (durable:true + id)', async () => {
      const topic = `/topic/${unique('t')}`;
      const id = unique('sub');
      const subscriber = await connectStompJs(transport());
      const first = await subscribeWithReceipt(subscriber.client, topic, {
        id,
        durable: 'true',
        ack: 'client',
      });
      await subscriber.close();
      void first;
      const publisher = await connectStompJs(transport());
      await publishWithReceipt(publisher.client, topic, 'kept');
      const back = await connectStompJs(transport());
      const again = await subscribeWithReceipt(back.client, topic, { id, durable: 'true', ack: 'client' });
      const message = await again.inbox.next();
      assert.equal(message.body, 'kept');
      message.ack();
      again.unsubscribe({ durable: 'true' });
      await publisher.close();
      await back.close();
    });

    test('durable subscription, ActiveMQ dialect (client-id + activemq.subscriptionName)', async () => {
      const topic = `/topic/${unique('t')}`;
      const clientId = unique('client');
      const subscriber = await connectStompJs(transport(), { 'client-id': clientId });
      await subscribeWithReceipt(subscriber.client, topic, { 'activemq.subscriptionName': 'audit' });
      await subscriber.close();
      const publisher = await connectStompJs(transport());
      await publishWithReceipt(publisher.client, topic, 'while away');
      const back = await connectStompJs(transport(), { 'client-id': clientId });
      const again = await subscribeWithReceipt(back.client, topic, { 'activemq.subscriptionName': 'audit' });
      assert.equal((await again.inbox.next()).body, 'while away');
      await publisher.close();
      await back.close();
    });

    test('temporary queue: reply-to rewritten, the reply reaches the requester', async () => {
      const requests = `/queue/${unique('rpc')}`;
      const requester = await connectStompJs(transport());
      const responder = await connectStompJs(transport());
      const replies = new Inbox<string>();
      requester.client.subscribe('/temp-queue/replies', (message) => replies.push(message.body));
      const incoming = await subscribeWithReceipt(responder.client, requests);
      await publishWithReceipt(requester.client, requests, 'ping', { 'reply-to': '/temp-queue/replies' });
      const request = await incoming.inbox.next();
      const replyTo = request.headers['reply-to'];
      assert.ok(replyTo?.startsWith('/reply-queue/'), replyTo);
      await publishWithReceipt(responder.client, replyTo ?? '', 'pong');
      assert.equal(await replies.next(), 'pong');
      await requester.close();
      await responder.close();
    });

    test('transactions: ABORT drops, COMMIT applies sends and acks', async () => {
      const queue = `/queue/${unique('tx')}`;
      const client = await connectStompJs(transport());
      const { inbox } = await subscribeWithReceipt(client.client, queue, { ack: 'client-individual' });
      const aborted = client.client.begin();
      client.client.publish({ destination: queue, body: 'no', headers: { transaction: aborted.id } });
      aborted.abort();
      const committed = client.client.begin();
      client.client.publish({ destination: queue, body: 'yes', headers: { transaction: committed.id } });
      assert.ok(await inbox.quiet());
      committed.commit();
      const message = await inbox.next();
      assert.equal(message.body, 'yes');
      const ackTx = client.client.begin();
      message.ack({ transaction: ackTx.id });
      ackTx.commit();
      await publishWithReceipt(client.client, queue, 'after');
      assert.equal((await inbox.next()).body, 'after');
      await client.close();
    });

    test('binary bodies with NUL bytes', async () => {
      const queue = `/queue/${unique('bin')}`;
      const client = await connectStompJs(transport());
      const { inbox } = await subscribeWithReceipt(client.client, queue);
      const body = new Uint8Array([0, 1, 0, 255, 0]);
      await publishWithReceipt(client.client, queue, body, { 'content-type': 'application/octet-stream' });
      const message = await inbox.next();
      assert.deepEqual([...message.binaryBody], [...body]);
      await client.close();
    });

    test('older versions: 1.1 and 1.0 clients', async () => {
      for (const version of ['1.1', '1.0']) {
        const queue = `/queue/${unique('v')}`;
        const client = await connectStompJs(transport(), {}, [version]);
        assert.equal(client.connected.headers['version'], version);
        const { inbox } = await subscribeWithReceipt(client.client, queue, { ack: 'client' });
        await publishWithReceipt(client.client, queue, `v${version}`);
        const message = await inbox.next();
        assert.equal(message.body, `v${version}`);
        message.ack();
        await client.close();
      }
    });
  });
}

test('unknown destinations and unsupported headers get an ERROR that explains', async () => {
  const client = await connectStompJs({ ws: harness.wsUrl });
  const error = new Promise<string>((resolve) => {
    client.client.onStompError = (frame) => resolve(`${frame.headers['message']}: ${frame.body}`);
  });
  client.client.subscribe('/queue/x', () => undefined, { selector: "color = 'red'" });
  assert.match(await error, /not supported.*selector/s);
  await client.close();
});
