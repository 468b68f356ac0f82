// MQTT 3.1.1 packets for the load generator: encoded once, patched in place, written in
// batches. Only what a benchmark client sends and receives is here (CONNECT, SUBSCRIBE,
// PUBLISH, PUBACK, DISCONNECT out; CONNACK, SUBACK, PUBLISH, PUBACK in). Section numbers
// refer to the MQTT 3.1.1 specification.

export const MqttPacketType = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Subscribe: 8,
  Suback: 9,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
} as const;

export type MqttQos = 0 | 1;

/** [MQTT 2.2.3] Remaining Length: 7 bits a byte, high bit set while more follow. */
export function encodeRemainingLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 268_435_455) {
    throw new RangeError(`remaining length out of range: ${length}`);
  }
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

function encodeString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function packet(firstByte: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([firstByte]), encodeRemainingLength(body.length), body]);
}

export interface ConnectOptions {
  readonly clientId: string;
  readonly cleanSession: boolean;
  readonly keepAliveSeconds: number;
  readonly username?: string;
  readonly password?: string;
}

/** [MQTT 3.1] CONNECT with protocol level 4. */
export function encodeConnect(options: ConnectOptions): Buffer {
  let flags = options.cleanSession ? 0x02 : 0;
  const payload = [encodeString(options.clientId)];
  if (options.username !== undefined) {
    flags |= 0x80;
    payload.push(encodeString(options.username));
  }
  if (options.password !== undefined) {
    flags |= 0x40;
    payload.push(encodeString(options.password));
  }
  const keepAlive = Buffer.allocUnsafe(2);
  keepAlive.writeUInt16BE(options.keepAliveSeconds, 0);
  return packet(
    MqttPacketType.Connect << 4,
    encodeString('MQTT'),
    Buffer.from([4, flags]),
    keepAlive,
    ...payload,
  );
}

/** [MQTT 3.8] SUBSCRIBE: fixed header flags must be 0b0010 [MQTT-3.8.1-1]. */
export function encodeSubscribe(
  packetId: number,
  filters: readonly { topic: string; qos: MqttQos }[],
): Buffer {
  const id = Buffer.allocUnsafe(2);
  id.writeUInt16BE(packetId, 0);
  const parts = filters.flatMap((filter) => [encodeString(filter.topic), Buffer.from([filter.qos])]);
  return packet((MqttPacketType.Subscribe << 4) | 0x02, id, ...parts);
}

export const pubackBytes = 4;

/** [MQTT 3.4] PUBACK, written into a caller's buffer so many go out in one write. */
export function writePuback(target: Buffer, offset: number, packetId: number): void {
  target[offset] = MqttPacketType.Puback << 4;
  target[offset + 1] = 2;
  target.writeUInt16BE(packetId, offset + 2);
}

export function encodeDisconnect(): Buffer {
  return Buffer.from([MqttPacketType.Disconnect << 4, 0]);
}

/**
 * A PUBLISH encoded once. The generator copies `frame` for each message and patches the
 * packet identifier (QoS 1 only) and the payload stamp at the recorded offsets.
 */
export interface PublishTemplate {
  readonly frame: Buffer;
  readonly packetIdOffset: number | undefined;
  readonly payloadOffset: number;
}

/** [MQTT 3.3] PUBLISH: topic, packet identifier when QoS > 0, payload. */
export function encodePublishTemplate(topic: string, qos: MqttQos, payload: Buffer): PublishTemplate {
  const topicBytes = encodeString(topic);
  const idBytes = qos > 0 ? Buffer.alloc(2) : Buffer.alloc(0);
  const remaining = topicBytes.length + idBytes.length + payload.length;
  const header = Buffer.concat([
    Buffer.from([(MqttPacketType.Publish << 4) | (qos << 1)]),
    encodeRemainingLength(remaining),
  ]);
  const frame = Buffer.concat([header, topicBytes, idBytes, payload]);
  return {
    frame,
    packetIdOffset: qos > 0 ? header.length + topicBytes.length : undefined,
    payloadOffset: header.length + topicBytes.length + idBytes.length,
  };
}

/** One packet as read off the wire: `body` is a view of the variable header and payload. */
export interface MqttPacket {
  readonly type: number;
  readonly flags: number;
  readonly body: Buffer;
}

/** A PUBLISH as the receiving side needs it: where the payload is, and how to ack it. */
export interface PublishView {
  readonly qos: number;
  readonly packetId: number;
  readonly topic: string;
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

export function parsePublish(packetRead: MqttPacket): PublishView {
  const body = packetRead.body;
  const qos = (packetRead.flags >> 1) & 0x03;
  const topicLength = body.readUInt16BE(0);
  const topic = body.toString('utf8', 2, 2 + topicLength);
  let offset = 2 + topicLength;
  let packetId = 0;
  if (qos > 0) {
    packetId = body.readUInt16BE(offset);
    offset += 2;
  }
  return { qos, packetId, topic, payloadOffset: offset, payloadLength: body.length - offset };
}

/**
 * Splits a byte stream into packets. Chunks may cut a packet anywhere; the reader keeps
 * the unfinished tail and joins it with the next chunk.
 */
export class MqttPacketReader {
  private pending: Buffer | undefined;

  /** Calls `onPacket` for every complete packet in the stream so far. */
  read(chunk: Buffer, onPacket: (packetRead: MqttPacket) => void): void {
    const buffer = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let offset = 0;
    while (offset < buffer.length) {
      const start = offset;
      if (buffer.length - offset < 2) break;
      const firstByte = buffer[offset] ?? 0;
      let length = 0;
      let multiplier = 1;
      let cursor = offset + 1;
      let complete = false;
      for (let index = 0; index < 4 && cursor < buffer.length; index++) {
        const byte = buffer[cursor++] ?? 0;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        if (index === 3) throw new RangeError('malformed remaining length');
      }
      if (!complete || buffer.length - cursor < length) {
        offset = start;
        break;
      }
      onPacket({
        type: firstByte >> 4,
        flags: firstByte & 0x0f,
        body: buffer.subarray(cursor, cursor + length),
      });
      offset = cursor + length;
    }
    if (offset < buffer.length) this.pending = Buffer.from(buffer.subarray(offset));
  }
}
