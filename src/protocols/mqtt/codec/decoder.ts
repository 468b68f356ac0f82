// Bytes in, packets out. The decoder frames the byte stream itself — fixed header and
// remaining length — so that it can refuse an oversized packet as soon as its length is
// known, before buffering it, and then hands each complete packet to the `mqtt-packet`
// parser (or, for the common PUBLISH shapes, decodes it directly without the library's
// intermediate buffer list).
//
// Pure: no I/O, no timers. One decoder per connection; not reentrant.

import { isUtf8 } from 'node:buffer';
import { ErrorCode, WeirError } from '../../../common/errors.js';
import { createLibraryParser, PacketType } from './packets.js';
import type { LibraryParser, Packet, ProtocolVersion, PublishPacket, Qos } from './packets.js';
import { ReasonCode } from './reason-codes.js';

export type DecodeErrorKind = 'malformed' | 'protocol' | 'too-large' | 'unsupported-version';

/** A packet the decoder cannot accept; the session closes the connection with `reasonCode`. */
export class MqttDecodeError extends WeirError {
  readonly kind: DecodeErrorKind;
  readonly reasonCode: number;

  constructor(kind: DecodeErrorKind, message: string) {
    super(kind === 'too-large' ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError, message);
    this.name = 'MqttDecodeError';
    this.kind = kind;
    this.reasonCode =
      kind === 'too-large'
        ? ReasonCode.packetTooLarge
        : kind === 'unsupported-version'
          ? ReasonCode.unsupportedProtocolVersion
          : kind === 'protocol'
            ? ReasonCode.protocolError
            : ReasonCode.malformedPacket;
  }
}

/** The largest remaining length a four-byte variable byte integer can carry (§1.5.5). */
export const remainingLengthMax = 268_435_455;

/**
 * The library's parsers, one per protocol version, shared by every decoder: each call hands
 * one whole packet and the parser answers synchronously, so no state carries from one call
 * to the next (and a connection costs no parser of its own: ~1 KiB less per idle client).
 */
interface SharedParser {
  readonly parser: LibraryParser & { settings: { protocolVersion: ProtocolVersion } };
  parsed: Packet | undefined;
  error: Error | undefined;
}

const sharedParsers = new Map<ProtocolVersion, SharedParser>();

function sharedParser(version: ProtocolVersion): SharedParser {
  let shared = sharedParsers.get(version);
  if (shared === undefined) {
    const parser = createLibraryParser(version) as SharedParser['parser'];
    const created: SharedParser = { parser, parsed: undefined, error: undefined };
    parser.on('packet', (packet) => {
      created.parsed = packet;
    });
    parser.on('error', (error) => {
      created.error = error;
    });
    sharedParsers.set(version, created);
    shared = created;
  }
  return shared;
}

export class MqttDecoder {
  #protocolVersion: ProtocolVersion = 4;
  #packetBytesMax: number;
  /** Bytes of an incomplete packet carried over from earlier chunks (made on first use). */
  #pending: Buffer[] | undefined;
  #pendingBytes = 0;
  /** Total size of the packet being collected, once its header is known; else -1. */
  #pendingPacketBytes = -1;

  constructor(packetBytesMax: number) {
    this.#packetBytesMax = packetBytesMax;
  }

  get protocolVersion(): ProtocolVersion {
    return this.#protocolVersion;
  }

  /** Called once CONNECT is accepted: the rest of the connection uses this version. */
  setProtocolVersion(version: ProtocolVersion): void {
    this.#protocolVersion = version;
  }

  /**
   * Decodes every complete packet in `chunk` (plus what earlier chunks left over) and calls
   * `onPacket` for each, in order. Throws MqttDecodeError at the first bad packet; the
   * decoder is unusable afterwards (the connection closes).
   */
  push(chunk: Buffer, onPacket: (packet: Packet, packetBytes: number) => void): void {
    let buffer = chunk;
    if (this.#pending !== undefined) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      // Wait for the whole packet before copying it into one buffer.
      if (this.#pendingPacketBytes !== -1 && this.#pendingBytes < this.#pendingPacketBytes) return;
      buffer = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = undefined;
      this.#pendingBytes = 0;
      this.#pendingPacketBytes = -1;
    }
    let position = 0;
    while (position < buffer.length) {
      const header = this.#readHeader(buffer, position);
      if (header === undefined) break;
      const packetBytes = header.headerBytes + header.remainingLength;
      if (packetBytes > this.#packetBytesMax) {
        throw new MqttDecodeError(
          'too-large',
          `packet of ${packetBytes} bytes exceeds the maximum packet size ${this.#packetBytesMax}`,
        );
      }
      if (position + packetBytes > buffer.length) {
        this.#pendingPacketBytes = packetBytes;
        break;
      }
      const packet = this.#decodePacket(buffer, position, header.headerBytes, packetBytes);
      position += packetBytes;
      onPacket(packet, packetBytes);
    }
    if (position < buffer.length) {
      const rest = buffer.subarray(position);
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
  }

  /** Fixed header at `position`, or undefined when more bytes are needed. */
  #readHeader(
    buffer: Buffer,
    position: number,
  ): { headerBytes: number; remainingLength: number } | undefined {
    let remainingLength = 0;
    let multiplier = 1;
    for (let index = 1; index <= 4; index++) {
      if (position + index >= buffer.length) return undefined;
      const byte = buffer[position + index] as number;
      remainingLength += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        // A value must use the fewest bytes (§1.5.5): only a single zero byte may be 0x00.
        return { headerBytes: index + 1, remainingLength };
      }
      multiplier *= 128;
    }
    // [MQTT-1.5.5-1] (5.0) / §2.2.3 (3.1.1): at most four bytes of remaining length.
    throw new MqttDecodeError('malformed', 'remaining length longer than four bytes');
  }

  #decodePacket(buffer: Buffer, position: number, headerBytes: number, packetBytes: number): Packet {
    const first = buffer[position] as number;
    const type = first >> 4;
    if (type === PacketType.reserved || (type === PacketType.auth && this.#protocolVersion !== 5)) {
      throw new MqttDecodeError('malformed', `reserved packet type ${type}`);
    }
    if (type === PacketType.publish) {
      const fast = this.#decodePublish(buffer, position, headerBytes, packetBytes, first);
      if (fast !== undefined) return fast;
    }
    const bytes = buffer.subarray(position, position + packetBytes);
    const shared = sharedParser(this.#protocolVersion);
    shared.parsed = undefined;
    shared.error = undefined;
    // A CONNECT teaches the library parser its version; every packet here states ours.
    shared.parser.settings = { protocolVersion: this.#protocolVersion };
    const left = shared.parser.parse(bytes);
    const error = shared.error as Error | undefined;
    const parsed = shared.parsed as Packet | undefined;
    shared.parsed = undefined;
    shared.error = undefined;
    if (error !== undefined) {
      // A parser that failed mid-packet starts afresh for the next one (errors close connections).
      sharedParsers.delete(this.#protocolVersion);
      if (error.message === 'Invalid protocol version') {
        throw new MqttDecodeError('unsupported-version', 'unsupported protocol version');
      }
      // [MQTT-2.2.2-2]: invalid fixed-header flags close the connection.
      throw new MqttDecodeError('malformed', error.message);
    }
    if (parsed === undefined || left !== 0) {
      // Whatever the library kept of this packet must not reach the next one.
      sharedParsers.delete(this.#protocolVersion);
      throw new MqttDecodeError('malformed', `malformed ${packetTypeName(type)} packet`);
    }
    return parsed;
  }

  /**
   * PUBLISH without properties (all of 3.1.1, and 5.0 with an empty property list) decoded
   * without the library: the payload is a slice of the input, not a copy. Anything else
   * returns undefined and takes the library path.
   */
  #decodePublish(
    buffer: Buffer,
    position: number,
    headerBytes: number,
    packetBytes: number,
    first: number,
  ): PublishPacket | undefined {
    const qos = (first >> 1) & 0x03;
    if (qos === 3) {
      // [MQTT-3.3.1-4]: a PUBLISH must not have both QoS bits set.
      throw new MqttDecodeError('malformed', 'PUBLISH with QoS 3');
    }
    const end = position + packetBytes;
    let cursor = position + headerBytes;
    if (cursor + 2 > end) throw new MqttDecodeError('malformed', 'PUBLISH too short for its topic');
    const topicBytes = buffer.readUInt16BE(cursor);
    cursor += 2;
    if (cursor + topicBytes > end)
      throw new MqttDecodeError('malformed', 'PUBLISH topic overruns the packet');
    const topicSlice = buffer.subarray(cursor, cursor + topicBytes);
    // [MQTT-1.5.3-1]: strings are well-formed UTF-8, or the connection closes.
    if (!isUtf8(topicSlice)) throw new MqttDecodeError('malformed', 'PUBLISH topic is not valid UTF-8');
    cursor += topicBytes;
    let messageId: number | undefined;
    if (qos > 0) {
      if (cursor + 2 > end) throw new MqttDecodeError('malformed', 'PUBLISH too short for its packet id');
      messageId = buffer.readUInt16BE(cursor);
      cursor += 2;
    }
    if (this.#protocolVersion === 5) {
      if (cursor >= end) throw new MqttDecodeError('malformed', 'PUBLISH too short for its properties');
      if (buffer[cursor] !== 0) return undefined;
      cursor += 1;
    }
    const packet: PublishPacket = {
      cmd: 'publish',
      topic: topicSlice.toString('utf8'),
      payload: buffer.subarray(cursor, end),
      qos: qos as Qos,
      dup: (first & 0x08) !== 0,
      retain: (first & 0x01) !== 0,
      length: packetBytes - headerBytes,
    };
    if (messageId !== undefined) packet.messageId = messageId;
    return packet;
  }
}

function packetTypeName(type: number): string {
  for (const [name, value] of Object.entries(PacketType)) if (value === type) return name.toUpperCase();
  return String(type);
}
