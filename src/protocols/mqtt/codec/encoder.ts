// Packets out, bytes in one buffer. Most packets go through `mqtt-packet`'s generator;
// PUBLISH without properties and the small acknowledgements are written directly, because
// they are the hot path of every workload (one allocation per packet, no intermediate
// objects).
//
// Pure: no I/O, no timers.

import { generatePacket } from './packets.js';
import type { Packet, ProtocolVersion, PublishPacket, Qos } from './packets.js';

export function encodePacket(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  if (packet.cmd === 'publish') return encodePublishPacket(packet, protocolVersion);
  return generatePacket(packet, protocolVersion);
}

function variableByteIntegerSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

function writeVariableByteInteger(buffer: Buffer, position: number, value: number): number {
  let remaining = value;
  let cursor = position;
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    buffer[cursor++] = byte;
  } while (remaining > 0);
  return cursor;
}

/** PUBLISH; properties (v5) go through the library, the plain shape is written here. */
export function encodePublishPacket(packet: PublishPacket, protocolVersion: ProtocolVersion): Buffer {
  const properties = packet.properties;
  if (protocolVersion === 5 && properties !== undefined && Object.keys(properties).length > 0) {
    return generatePacket(packet, protocolVersion);
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  return encodePublish(
    packet.topic,
    payload,
    packet.qos,
    packet.messageId ?? 0,
    packet.dup,
    packet.retain,
    protocolVersion,
  );
}

/** A PUBLISH with no properties: the bytes of MQTT 3.1.1 §3.3 / 5.0 §3.3 with an empty property list. */
export function encodePublish(
  topic: string,
  payload: Buffer,
  qos: Qos,
  packetId: number,
  dup: boolean,
  retain: boolean,
  protocolVersion: ProtocolVersion,
): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const remainingLength =
    2 + topicBytes + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payload.length;
  const buffer = Buffer.allocUnsafe(1 + variableByteIntegerSize(remainingLength) + remainingLength);
  buffer[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
  let cursor = writeVariableByteInteger(buffer, 1, remainingLength);
  buffer.writeUInt16BE(topicBytes, cursor);
  cursor += 2;
  cursor += buffer.write(topic, cursor, 'utf8');
  if (qos > 0) {
    buffer.writeUInt16BE(packetId, cursor);
    cursor += 2;
  }
  if (protocolVersion === 5) buffer[cursor++] = 0;
  payload.copy(buffer, cursor);
  return buffer;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP with a success reason and no properties: four bytes. */
export function encodeAcknowledgement(
  kind: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp',
  packetId: number,
): Buffer {
  const buffer = Buffer.allocUnsafe(4);
  buffer[0] = kind === 'puback' ? 0x40 : kind === 'pubrec' ? 0x50 : kind === 'pubrel' ? 0x62 : 0x70;
  buffer[1] = 2;
  buffer.writeUInt16BE(packetId, 2);
  return buffer;
}
