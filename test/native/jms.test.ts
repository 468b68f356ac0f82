import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import type { Connection, TextMessage } from '../../src/client/jms/index.js';
import {
  AcknowledgeMode,
  BytesMessage,
  ConnectionFactory,
  DeliveryMode,
  MapMessage,
  ObjectMessage,
  StreamMessage,
} from '../../src/client/jms/index.js';
import type { TestBroker } from './harness.js';
import { startBroker, until } from './harness.js';

let broker: TestBroker;
const connections: Connection[] = [];

async function open(clientId?: string): Promise<Connection> {
  const factory = new ConnectionFactory({
    servers: broker.address,
    ...(clientId !== undefined ? { clientId } : {}),
  });
  const connection = await factory.createConnection();
  connections.push(connection);
  connection.start();
  return connection;
}

before(async () => {
  broker = await startBroker();
});

after(async () => {
  for (const connection of connections) await connection.close();
  await broker.close();
});

test('queue: AUTO_ACKNOWLEDGE send and receive, with JMS headers and properties', async () => {
  const connection = await open();
  const session = connection.createSession(false, AcknowledgeMode.AUTO_ACKNOWLEDGE);
  const orders = session.createQueue('jms-orders');
  const producer = session.createProducer(orders);
  producer.priority = 8;
  const sent = session.createTextMessage('hello');
  sent.setProperty('region', 'eu');
  sent.JMSCorrelationID = 'corr-1';
  sent.JMSType = 'greeting';
  await producer.send(sent, { timeToLiveMs: 60_000 });
  const consumer = await session.createConsumer(orders);
  const received = (await consumer.receive(2_000)) as TextMessage;
  assert.equal(received.type, 'text');
  assert.equal(received.text, 'hello');
  assert.equal(received.getProperty('region'), 'eu');
  assert.equal(received.JMSCorrelationID, 'corr-1');
  assert.equal(received.JMSType, 'greeting');
  assert.equal(received.JMSPriority, 8);
  assert.equal(received.JMSMessageID, sent.JMSMessageID);
  assert.equal(received.JMSDeliveryMode, DeliveryMode.PERSISTENT);
  assert.ok(received.JMSExpiration > Date.now());
  assert.equal(await consumer.receive(100), null);
  await until(() => broker.core.consumerInfo('jms-orders', 'jms-orders').acked === 1, 'auto ack');
  await consumer.close();
});

test('every message type survives the trip', async () => {
  const connection = await open();
  const session = connection.createSession();
  const queue = session.createQueue('jms-types');
  const producer = session.createProducer(queue);
  const bytes = session.createBytesMessage();
  bytes.writeBytes(Buffer.from([9, 8, 7]));
  const map = session.createMapMessage();
  map.set('count', 3);
  map.set('name', 'widget');
  const stream = session.createStreamMessage();
  stream.write('a');
  stream.write(2);
  for (const message of [
    bytes,
    map,
    session.createObjectMessage({ nested: [1, 2] }),
    stream,
    session.createTextMessage('t'),
  ]) {
    await producer.send(message);
  }
  const consumer = await session.createConsumer(queue);
  const got = [];
  for (let index = 0; index < 5; index++) got.push(await consumer.receive(2_000));
  assert.ok(got[0] instanceof BytesMessage);
  assert.deepEqual(got[0].readBytes(), Buffer.from([9, 8, 7]));
  assert.ok(got[1] instanceof MapMessage);
  assert.equal(got[1].get('count'), 3);
  assert.equal(got[1].get('name'), 'widget');
  assert.ok(got[2] instanceof ObjectMessage);
  assert.deepEqual(got[2].object, { nested: [1, 2] });
  assert.ok(got[3] instanceof StreamMessage);
  assert.equal(got[3].read(), 'a');
  assert.equal(got[3].read(), 2);
  assert.equal((got[4] as TextMessage).text, 't');
  await consumer.close();
});

test('CLIENT_ACKNOWLEDGE acks everything so far; recover redelivers the rest', async () => {
  const connection = await open();
  const session = connection.createSession(false, AcknowledgeMode.CLIENT_ACKNOWLEDGE);
  const queue = session.createQueue('jms-client');
  const producer = session.createProducer(queue);
  for (const text of ['a', 'b', 'c']) await producer.send(session.createTextMessage(text));
  const consumer = await session.createConsumer(queue);
  const a = await consumer.receive(2_000);
  const b = await consumer.receive(2_000);
  b?.acknowledge();
  await until(() => broker.core.consumerInfo('jms-client', 'jms-client').acked === 2, 'a and b acked');
  assert.equal(a?.JMSRedelivered, false);
  const c = (await consumer.receive(2_000)) as TextMessage;
  assert.equal(c.text, 'c');
  session.recover();
  const again = (await consumer.receive(3_000)) as TextMessage;
  assert.equal(again.text, 'c');
  assert.equal(again.JMSRedelivered, true);
  assert.equal(again.getProperty('JMSXDeliveryCount'), 2);
  again.acknowledge();
  await until(() => broker.core.consumerInfo('jms-client', 'jms-client').acked === 3, 'c acked');
  await consumer.close();
});

test('INDIVIDUAL_ACKNOWLEDGE acks one message only', async () => {
  const connection = await open();
  const session = connection.createSession(false, AcknowledgeMode.INDIVIDUAL_ACKNOWLEDGE);
  const queue = session.createQueue('jms-individual');
  const producer = session.createProducer(queue);
  await producer.send(session.createTextMessage('x'));
  await producer.send(session.createTextMessage('y'));
  const consumer = await session.createConsumer(queue);
  await consumer.receive(2_000);
  const y = await consumer.receive(2_000);
  y?.acknowledge();
  await until(() => broker.core.consumerInfo('jms-individual', 'jms-individual').acked === 1, 'y acked');
  assert.equal(broker.core.consumerInfo('jms-individual', 'jms-individual').ackPending, 1);
  await consumer.close();
});

test('a listener that throws gets the message again; the error reaches the exception listener', async () => {
  const connection = await open();
  const errors: unknown[] = [];
  connection.setExceptionListener((error) => errors.push(error));
  const session = connection.createSession(false, AcknowledgeMode.DUPS_OK_ACKNOWLEDGE);
  const queue = session.createQueue('jms-listener');
  const seen: number[] = [];
  const consumer = await session.createConsumer(queue);
  consumer.setMessageListener((message) => {
    seen.push(message.getProperty('JMSXDeliveryCount') as number);
    if (seen.length === 1) throw new Error('first attempt fails');
  });
  await session.createProducer(queue).send(session.createTextMessage('retry me'));
  await until(() => seen.length === 2, 'redelivery');
  assert.deepEqual(seen, [1, 2]);
  assert.equal(errors.length, 1);
  await until(
    () => broker.core.consumerInfo('jms-listener', 'jms-listener').acked === 1,
    'acked after success',
  );
  await consumer.close();
});

test('topics: plain, shared and durable subscriptions', async () => {
  const connection = await open('jms-client-1');
  const session = connection.createSession();
  const prices = session.createTopic('jms.prices');
  const plain = await session.createConsumer(prices);
  const sharedA = await session.createSharedConsumer(prices, 'board');
  const sharedB = await session.createSharedConsumer(prices, 'board');
  const durable = await session.createDurableConsumer(prices, 'history');
  const producer = session.createProducer(prices);
  // Live subscriptions are set up asynchronously: an administration round trip orders after them.
  await connection.client.admin.listStreams();
  for (let index = 0; index < 4; index++) await producer.send(session.createTextMessage(`p${index}`));
  for (let index = 0; index < 4; index++)
    assert.equal(((await plain.receive(2_000)) as TextMessage).text, `p${index}`);
  let shared = 0;
  while ((await sharedA.receive(200)) !== null) shared++;
  while ((await sharedB.receive(200)) !== null) shared++;
  assert.equal(shared, 4);
  await durable.close();
  await producer.send(session.createTextMessage('while away'));
  const back = await session.createDurableConsumer(prices, 'history');
  const texts: string[] = [];
  for (let message = await back.receive(1_000); message !== null; message = await back.receive(300)) {
    texts.push((message as TextMessage).text ?? '');
  }
  assert.ok(texts.includes('while away'), `durable subscription kept ${JSON.stringify(texts)}`);
  await back.close();
  await session.unsubscribe('history', 'jms.prices');
  await Promise.all([plain.close(), sharedA.close(), sharedB.close()]);
});

test('temporary queue: request and reply through it', async () => {
  const connection = await open();
  const session = connection.createSession();
  const replies = session.createTemporaryQueue();
  const consumer = await session.createConsumer(replies);
  await connection.client.admin.listStreams();
  const message = session.createTextMessage('pong');
  await session.createProducer(replies).send(message);
  assert.equal(((await consumer.receive(2_000)) as TextMessage).text, 'pong');
  await consumer.close();
});

test('a selector on a durable subscription delivers only what it selects', async () => {
  const connection = await open('jms-selector');
  const session = connection.createSession();
  const fills = session.createTopic('jms.fills');
  const big = await session.createDurableConsumer(fills, 'big', "quantity > 100 AND side = 'buy'");
  const producer = session.createProducer(fills);
  for (const [quantity, side] of [
    [50, 'buy'],
    [500, 'buy'],
    [500, 'sell'],
    [1000, 'buy'],
  ] as const) {
    const message = session.createTextMessage(`${side} ${quantity}`);
    message.setProperty('quantity', quantity);
    message.setProperty('side', side);
    await producer.send(message);
  }
  const texts: string[] = [];
  for (let message = await big.receive(2_000); message !== null; message = await big.receive(300)) {
    texts.push((message as TextMessage).text ?? '');
  }
  assert.deepEqual(texts, ['buy 500', 'buy 1000']);
  await big.close();
});

test('transacted sessions: sends appear on commit; rollback redelivers what was received', async () => {
  const connection = await open();
  const session = connection.createSession(true);
  const queue = session.createQueue('jms-tx');
  const producer = session.createProducer(queue);
  await producer.send(session.createTextMessage('one'));
  await producer.send(session.createTextMessage('two'));
  const observer = connection.createSession();
  const peek = await observer.createConsumer(queue);
  assert.equal(await peek.receive(300), null, 'nothing is visible before commit');
  await peek.close();
  await session.commit();

  const consumer = await session.createConsumer(queue);
  const first = (await consumer.receive(2_000)) as TextMessage;
  assert.equal(first.text, 'one');
  await session.rollback();
  // 'two' may already be prefetched, so it can come before the redelivered 'one'.
  const after = [
    (await consumer.receive(3_000)) as TextMessage,
    (await consumer.receive(3_000)) as TextMessage,
  ];
  assert.deepEqual(after.map((message) => message.text).sort(), ['one', 'two']);
  assert.equal(after.find((message) => message.text === 'one')?.JMSRedelivered, true);
  await session.commit();
  await until(() => broker.core.consumerInfo('jms-tx', 'jms-tx').acked === 2, 'both acked on commit');
  await consumer.close();
});

test('selectors on queues are not supported yet, and say so', async () => {
  const connection = await open();
  const session = connection.createSession();
  await assert.rejects(
    session.createConsumer(session.createQueue('jms-selected'), "color = 'red'"),
    (error: unknown) => isWeirError(error, ErrorCode.NotSupported),
  );
});

test('a stopped connection delivers nothing until started', async () => {
  const connection = await open();
  connection.stop();
  const session = connection.createSession();
  const queue = session.createQueue('jms-stopped');
  await session.createProducer(queue).send(session.createTextMessage('held'));
  const consumer = await session.createConsumer(queue);
  assert.equal(await consumer.receive(200), null);
  connection.start();
  assert.equal(((await consumer.receive(2_000)) as TextMessage).text, 'held');
  await consumer.close();
});
