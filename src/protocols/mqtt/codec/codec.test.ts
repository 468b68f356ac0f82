import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MqttDecodeError, MqttDecoder } from './decoder.js';
import { encodeAcknowledgement, encodePacket, encodePublish } from './encoder.js';
import { generatePacket } from './packets.js';
import type { Packet } from './packets.js';

function decodeAll(decoder: MqttDecoder, ...chunks: Buffer[]): Packet[] {
  const packets: Packet[] = [];
  for (const chunk of chunks) decoder.push(chunk, (packet) => packets.push(packet));
  return packets;
}

const connect5 = generatePacket(
  { cmd: 'connect', clientId: 'c1', protocolVersion: 5, clean: true, keepalive: 30 },
  5,
);

test('decodes packets split across chunks and several in one chunk', () => {
  const decoder = new MqttDecoder(1024);
  const publish = encodePublish('a/b', Buffer.from('hello'), 1, 7, false, true, 4);
  const both = Buffer.concat([publish, publish]);
  const packets = decodeAll(decoder, both.subarray(0, 3), both.subarray(3, 12), both.subarray(12));
  assert.equal(packets.length, 2);
  const first = packets[0];
  assert.ok(first?.cmd === 'publish');
  assert.equal(first.topic, 'a/b');
  assert.equal(first.messageId, 7);
  assert.equal(first.retain, true);
  assert.equal(first.qos, 1);
  assert.equal(Buffer.from(first.payload).toString(), 'hello');
});

test('the direct PUBLISH path and the library agree', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(0, 1, 2),
      fc.boolean(),
      fc.constantFrom(4, 5),
      (topic, payload, qos, retain, version) => {
        const bytes = generatePacket(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(payload),
            qos: qos as 0 | 1 | 2,
            dup: false,
            retain,
            ...(qos > 0 ? { messageId: 42 } : {}),
          },
          version as 4 | 5,
        );
        const mine = encodePublish(
          topic,
          Buffer.from(payload),
          qos as 0 | 1 | 2,
          42,
          false,
          retain,
          version as 4 | 5,
        );
        assert.deepEqual(mine, bytes);
        const decoder = new MqttDecoder(1 << 20);
        decoder.setProtocolVersion(version as 4 | 5);
        const [packet] = decodeAll(decoder, bytes);
        assert.ok(packet?.cmd === 'publish');
        assert.equal(packet.topic, topic);
        assert.deepEqual(Buffer.from(packet.payload), Buffer.from(payload));
      },
    ),
  );
});

test('v5 PUBLISH with properties round-trips through the library', () => {
  const bytes = encodePacket(
    {
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 3,
      dup: false,
      retain: false,
      properties: { contentType: 'text/plain', userProperties: { a: '1', b: ['2', '3'] } },
    },
    5,
  );
  const decoder = new MqttDecoder(1024);
  decodeAll(decoder, connect5);
  decoder.setProtocolVersion(5);
  const [packet] = decodeAll(decoder, bytes);
  assert.ok(packet?.cmd === 'publish');
  assert.equal(packet.properties?.contentType, 'text/plain');
  assert.deepEqual({ ...packet.properties?.userProperties }, { a: '1', b: ['2', '3'] });
});

test('refuses an oversized packet as soon as its length is known', () => {
  const decoder = new MqttDecoder(100);
  // Only the fixed header of a 1000-byte PUBLISH: no need to buffer the rest to refuse it.
  const header = Buffer.from([0x30, 0xe8, 0x07]);
  assert.throws(
    () => decodeAll(decoder, header),
    (error: unknown) =>
      error instanceof MqttDecodeError && error.kind === 'too-large' && error.reasonCode === 0x95,
  );
});

test('refuses a remaining length of five bytes', () => {
  const decoder = new MqttDecoder(1 << 28);
  assert.throws(
    () => decodeAll(decoder, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])),
    (error: unknown) => error instanceof MqttDecodeError && error.kind === 'malformed',
  );
});

test('refuses reserved fixed-header flags [MQTT-2.2.2-2] and QoS 3 [MQTT-3.3.1-4]', () => {
  // PUBREL must have flags 0b0010.
  assert.throws(
    () => decodeAll(new MqttDecoder(1024), Buffer.from([0x60, 0x02, 0x00, 0x01])),
    MqttDecodeError,
  );
  assert.throws(
    () => decodeAll(new MqttDecoder(1024), Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])),
    MqttDecodeError,
  );
  // Packet type 0 is reserved.
  assert.throws(() => decodeAll(new MqttDecoder(1024), Buffer.from([0x00, 0x00])), MqttDecodeError);
});

test('reports an unsupported protocol level in CONNECT', () => {
  const bytes = Buffer.from(generatePacket({ cmd: 'connect', clientId: 'x', protocolVersion: 4 }, 4));
  bytes[8] = 6; // protocol level byte after "MQTT"
  assert.throws(
    () => decodeAll(new MqttDecoder(1024), bytes),
    (error: unknown) => error instanceof MqttDecodeError && error.kind === 'unsupported-version',
  );
});

test('acknowledgements are four bytes the library reads back', () => {
  const decoder = new MqttDecoder(1024);
  const packets = decodeAll(
    decoder,
    encodeAcknowledgement('puback', 1),
    encodeAcknowledgement('pubrec', 2),
    encodeAcknowledgement('pubrel', 3),
    encodeAcknowledgement('pubcomp', 4),
  );
  assert.deepEqual(
    packets.map((packet) => [packet.cmd, packet.messageId]),
    [
      ['puback', 1],
      ['pubrec', 2],
      ['pubrel', 3],
      ['pubcomp', 4],
    ],
  );
});

test('arbitrary bytes either decode or raise MqttDecodeError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(4, 5), (bytes, version) => {
      const decoder = new MqttDecoder(1024);
      decoder.setProtocolVersion(version as 4 | 5);
      try {
        decodeAll(decoder, Buffer.from(bytes));
      } catch (error) {
        assert.ok(error instanceof MqttDecodeError, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
