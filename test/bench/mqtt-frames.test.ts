import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeConnect,
  encodePublishTemplate,
  encodeRemainingLength,
  encodeSubscribe,
  MqttPacketReader,
  MqttPacketType,
  parsePublish,
  writePuback,
  type MqttPacket,
} from '../../bench/harness/mqtt-frames.js';
import { createPayload, readPayloadStamp, stampPayload } from '../../bench/harness/payload.js';

test('remaining length uses 1 to 4 bytes [MQTT 2.2.3]', () => {
  assert.deepEqual([...encodeRemainingLength(0)], [0]);
  assert.deepEqual([...encodeRemainingLength(127)], [0x7f]);
  assert.deepEqual([...encodeRemainingLength(128)], [0x80, 0x01]);
  assert.deepEqual([...encodeRemainingLength(16_383)], [0xff, 0x7f]);
  assert.deepEqual([...encodeRemainingLength(268_435_455)], [0xff, 0xff, 0xff, 0x7f]);
  assert.throws(() => encodeRemainingLength(268_435_456), RangeError);
});

test('CONNECT carries protocol level 4, clean session and credentials', () => {
  const frame = encodeConnect({
    clientId: 'c1',
    cleanSession: true,
    keepAliveSeconds: 0,
    username: 'u',
    password: 'p',
  });
  assert.equal(frame[0], 0x10);
  assert.equal(frame[1], frame.length - 2);
  assert.equal(frame.toString('utf8', 4, 8), 'MQTT');
  assert.equal(frame[8], 4);
  assert.equal(frame[9], 0x80 | 0x40 | 0x02);
  assert.ok(frame.subarray(12).toString('latin1').includes('c1'));
});

test('SUBSCRIBE has the reserved flags 0b0010 and one QoS byte per filter [MQTT-3.8.1-1]', () => {
  const frame = encodeSubscribe(7, [
    { topic: 'a/b', qos: 1 },
    { topic: 'c', qos: 0 },
  ]);
  assert.equal(frame[0], 0x82);
  assert.equal(frame.readUInt16BE(2), 7);
  assert.deepEqual([...frame.subarray(4)], [0, 3, 0x61, 0x2f, 0x62, 1, 0, 1, 0x63, 0]);
});

test('a patched QoS 1 PUBLISH template reads back with its packet id and stamp', () => {
  const template = encodePublishTemplate('bench/t', 1, createPayload(1024, 3));
  assert.equal(template.frame[0], 0x32);
  assert.ok(template.packetIdOffset !== undefined);
  const frame = Buffer.from(template.frame);
  frame.writeUInt16BE(513, template.packetIdOffset);
  stampPayload(frame, template.payloadOffset, 42, 123_456_789_012_345);
  const packets: MqttPacket[] = [];
  new MqttPacketReader().read(frame, (packet) => packets.push(packet));
  assert.equal(packets.length, 1);
  const packet = packets[0] as MqttPacket;
  assert.equal(packet.type, MqttPacketType.Publish);
  const view = parsePublish(packet);
  assert.equal(view.qos, 1);
  assert.equal(view.packetId, 513);
  assert.equal(view.topic, 'bench/t');
  assert.equal(view.payloadLength, 1024);
  assert.deepEqual(readPayloadStamp(packet.body, view.payloadOffset, view.payloadLength), {
    streamIndex: 3,
    sequence: 42,
    sentNs: 123_456_789_012_345,
  });
});

test('a QoS 0 PUBLISH has no packet id', () => {
  const template = encodePublishTemplate('t', 0, createPayload(100, 0));
  assert.equal(template.packetIdOffset, undefined);
  assert.equal(template.frame[0], 0x30);
  assert.equal(template.payloadOffset, 2 + 2 + 1);
});

test('the reader reassembles packets cut at every byte boundary', () => {
  const first = encodePublishTemplate('x/y', 1, createPayload(300, 0)).frame;
  const puback = Buffer.alloc(4);
  writePuback(puback, 0, 9);
  const stream = Buffer.concat([first, puback, first]);
  for (let cut = 1; cut < stream.length; cut++) {
    const reader = new MqttPacketReader();
    const types: number[] = [];
    reader.read(stream.subarray(0, cut), (packet) => types.push(packet.type));
    reader.read(stream.subarray(cut), (packet) => types.push(packet.type));
    assert.deepEqual(
      types,
      [MqttPacketType.Publish, MqttPacketType.Puback, MqttPacketType.Publish],
      `cut at ${cut}`,
    );
  }
});
