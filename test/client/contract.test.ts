// The Client contract: the same scenarios against the in-process client and the network
// client over real TCP (port 0), so both implementations keep one behaviour for the core II
// operations — request-reply, transactions, temporary destinations.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { Broker } from '../../src/client/broker.js';
import { connect } from '../../src/client/network-client.js';
import type { Client, ReceivedMessage } from '../../src/client/types.js';
import type { TestBroker } from '../native/harness.js';
import { startBroker } from '../native/harness.js';

interface Implementation {
  readonly name: string;
  start(): Promise<{ connect(): Promise<Client>; close(): Promise<void> }>;
}

const implementations: readonly Implementation[] = [
  {
    name: 'in-process client',
    async start() {
      const broker = await Broker.start({ storage: 'memory' });
      return { connect: () => Promise.resolve(broker.connect()), close: () => broker.close() };
    },
  },
  {
    name: 'network client',
    async start() {
      const broker: TestBroker = await startBroker();
      const clients: Client[] = [];
      return {
        async connect() {
          const client = await connect({ servers: broker.address });
          clients.push(client);
          return client;
        },
        async close() {
          for (const client of clients) await client.close();
          await broker.close();
        },
      };
    },
  },
];

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isWeirError(error, code), `expected ${code}, got ${String(error)}`);
    return true;
  });
}

for (const implementation of implementations) {
  describe(`Client contract: ${implementation.name}`, () => {
    let broker: Awaited<ReturnType<Implementation['start']>>;
    let requester: Client;
    let responder: Client;

    before(async () => {
      broker = await implementation.start();
      requester = await broker.connect();
      responder = await broker.connect();
    });

    after(async () => {
      await broker.close();
    });

    test('request resolves with the reply of a responder', async () => {
      const subscription = responder.subscribe('service.echo', {
        callback: (message) => {
          assert.ok(message.replyTo !== undefined, 'a request carries a reply subject');
          responder.publish(message.replyTo, `echo:${message.string()}`, {
            ...(message.correlationId === undefined ? {} : { correlationId: message.correlationId }),
          });
        },
      });
      // Over the network the subscription is in place a round trip later: retry until it is.
      let reply: ReceivedMessage | undefined;
      for (let attempt = 0; attempt < 50 && reply === undefined; attempt++) {
        try {
          reply = await requester.request('service.echo', 'hello', { timeoutMs: 2_000 });
        } catch (error) {
          if (!isWeirError(error, ErrorCode.NoResponders)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      assert.ok(reply !== undefined);
      assert.equal(reply.string(), 'echo:hello');
      await subscription.close();
    });

    test('request with nobody listening fails with WEIR_NO_RESPONDERS', async () => {
      await rejectsWith(
        requester.request('service.nobody', 'x', { timeoutMs: 2_000 }),
        ErrorCode.NoResponders,
      );
    });

    test('request without a reply fails with WEIR_TIMEOUT', async () => {
      const seen: string[] = [];
      const subscription = responder.subscribe('service.silent', {
        callback: (message) => void seen.push(message.string()),
      });
      let outcome: unknown;
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          await requester.request('service.silent', 'ping', { timeoutMs: 100 });
          outcome = 'replied';
          break;
        } catch (error) {
          outcome = error;
          if (!isWeirError(error, ErrorCode.NoResponders)) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      assert.ok(isWeirError(outcome, ErrorCode.Timeout), `expected WEIR_TIMEOUT, got ${String(outcome)}`);
      assert.ok(seen.includes('ping'), 'the silent responder received the request');
      await subscription.close();
    });

    test('a committed transaction is visible; an aborted one is not and returns its acks', async () => {
      await requester.admin.addStream({ name: 'TX_IN', subjects: ['tx.in'] });
      await requester.admin.addStream({ name: 'TX_OUT', subjects: ['tx.out'] });
      await requester.admin.addConsumer('TX_IN', { name: 'worker', ackPolicy: 'explicit' });
      await requester.admin.addConsumer('TX_OUT', { name: 'reader', ackPolicy: 'explicit' });
      const input = { stream: 'TX_IN', consumer: 'worker' };
      const output = { stream: 'TX_OUT', consumer: 'reader' };
      await requester.publishConfirmed('tx.in', 'order-1');

      const [first] = await requester.fetch(input, { expiresMs: 2_000 });
      assert.ok(first !== undefined);
      const aborted = requester.beginTransaction();
      aborted.publish('tx.out', 'shipped-1');
      aborted.ack(first);
      assert.deepEqual(await requester.fetch(output, { expiresMs: 100 }), [], 'nothing before commit');
      await aborted.abort();
      assert.deepEqual(await requester.fetch(output, { expiresMs: 100 }), [], 'nothing after abort');

      const [again] = await requester.fetch(input, { expiresMs: 2_000 });
      assert.ok(again !== undefined, 'the aborted ack returned the message to its consumer');
      assert.equal(again.string(), 'order-1');
      assert.equal(again.deliveryCount, 2);

      const committed = requester.beginTransaction();
      committed.publish('tx.out', 'shipped-1');
      committed.ack(again);
      const acks = await committed.commit();
      assert.equal(acks.length, 1);
      assert.equal(acks[0]?.stream, 'TX_OUT');
      const shipped = await requester.fetch(output, { expiresMs: 2_000 });
      assert.deepEqual(
        shipped.map((message) => message.string()),
        ['shipped-1'],
      );
      shipped[0]?.ack();
      assert.deepEqual(await requester.fetch(input, { expiresMs: 100 }), [], 'the input was acked');
      assert.equal((await requester.admin.consumerInfo('TX_IN', 'worker')).ackPending, 0);
    });

    test('a temporary queue works for its owner and is deleted when the owner closes', async () => {
      const owner = await broker.connect();
      const queue = await owner.createTemporaryQueue();
      await owner.publishConfirmed(queue.subject, 'job');
      const [job] = await owner.fetch(queue, { expiresMs: 2_000 });
      assert.equal(job?.string(), 'job');
      job.ack();
      assert.equal((await requester.admin.streamInfo(queue.stream)).config.name, queue.stream);

      const topic = await owner.createTemporaryTopic();
      assert.notEqual(topic, queue.subject);

      await owner.close();
      let gone = false;
      for (let attempt = 0; attempt < 200 && !gone; attempt++) {
        try {
          await requester.admin.streamInfo(queue.stream);
          await new Promise((resolve) => setTimeout(resolve, 10));
        } catch (error) {
          assert.ok(isWeirError(error, ErrorCode.StreamNotFound), String(error));
          gone = true;
        }
      }
      assert.ok(gone, 'the temporary queue was deleted with its owner');
    });
  });
}
