// Random packet sequences over an in-memory duplex (the in-process transport): whatever a
// client sends after CONNECT — in any order, with any ids, flags and topics — the broker
// answers or closes the connection, and never throws out of handleConnection.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createDuplexPair } from '../../src/server/duplex-pair.js';
import { encodePacket } from '../../src/protocols/mqtt/codec/encoder.js';
import type { Packet } from '../../src/protocols/mqtt/codec/packets.js';
import { startTestBroker } from './helpers.js';
import type { TestBroker } from './helpers.js';

const topic = fc.constantFrom('a', 'a/b', 'a/+', '#', '', '$SYS/x', '/', 'a//b', 'x.y', '$share/g/a');
const qos = fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>;
const id = fc.integer({ min: 1, max: 5 });

const packet = fc.oneof(
  fc.record({
    cmd: fc.constant('publish' as const),
    topic,
    payload: fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)),
    qos,
    messageId: id,
    dup: fc.boolean(),
    retain: fc.boolean(),
  }),
  fc.record({ cmd: fc.constant('puback' as const), messageId: id }),
  fc.record({ cmd: fc.constant('pubrec' as const), messageId: id }),
  fc.record({ cmd: fc.constant('pubrel' as const), messageId: id }),
  fc.record({ cmd: fc.constant('pubcomp' as const), messageId: id }),
  fc.record({
    cmd: fc.constant('subscribe' as const),
    messageId: id,
    subscriptions: fc.array(fc.record({ topic, qos }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    cmd: fc.constant('unsubscribe' as const),
    messageId: id,
    unsubscriptions: fc.array(topic, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    cmd: fc.constant('publish' as const),
    topic,
    payload: fc.constant(Buffer.from('p')),
    qos,
    messageId: id,
    dup: fc.constant(false),
    retain: fc.boolean(),
    properties: fc.record(
      {
        topicAlias: fc.integer({ min: 0, max: 3 }),
        messageExpiryInterval: fc.integer({ min: 0, max: 10 }),
        userProperties: fc.constant({ k: ['a', 'b'] }),
        subscriptionIdentifier: fc.integer({ min: 1, max: 3 }),
        payloadFormatIndicator: fc.boolean(),
        responseTopic: fc.constantFrom('r', 'r/+'),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    cmd: fc.constant('subscribe' as const),
    messageId: id,
    subscriptions: fc.array(
      fc.record({ topic, qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.integer({ min: 0, max: 2 }) }),
      { minLength: 1, maxLength: 2 },
    ),
    properties: fc.record({ subscriptionIdentifier: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: [] }),
  }),
  fc.record({
    cmd: fc.constant('disconnect' as const),
    reasonCode: fc.constantFrom(0, 4, 0x80),
    properties: fc.record({ sessionExpiryInterval: fc.integer({ min: 0, max: 5 }) }, { requiredKeys: [] }),
  }),
  fc.record({ cmd: fc.constant('auth' as const), reasonCode: fc.constant(0x18) }),
  fc.constant({ cmd: 'pingreq' as const }),
  fc.constant({ cmd: 'connect' as const, clientId: 'again', protocolVersion: 4 as const }),
) as fc.Arbitrary<Packet>;

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(() => broker.close());

test('random packet sequences are answered or refused, never crash the broker', async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(4, 5) as fc.Arbitrary<4 | 5>,
      fc.array(packet, { maxLength: 12 }),
      async (version, packets) => {
        runs++;
        const [client, server] = createDuplexPair();
        broker.server.handleConnection(server, {
          remoteAddress: 'in-process',
          remotePort: 0,
          transport: 'in-process',
          loopback: true,
        });
        let received = 0;
        client.on('data', (chunk: Buffer) => (received += chunk.length));
        client.on('error', () => undefined);
        client.write(
          encodePacket(
            { cmd: 'connect', clientId: `fuzz-${runs}`, protocolVersion: version, clean: true, keepalive: 0 },
            version,
          ),
        );
        for (const next of packets) {
          let bytes: Buffer;
          try {
            bytes = encodePacket(next, version);
          } catch {
            continue; // the library refuses to encode some combinations; a client could not send them either
          }
          client.write(bytes);
        }
        const deadline = Date.now() + 1000;
        while (received < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
        assert.ok(received >= 4, 'at least CONNACK came back');
        client.destroy();
      },
    ),
    { numRuns: 150 },
  );
  assert.equal(runs, 150);
});
