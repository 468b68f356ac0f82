// The typed face of the `mqtt-packet` library: the packet shapes the session works with,
// and the one place that imports the library, so nothing else depends on its loose typing.
//
// An MQTT control packet is (MQTT 3.1.1 §2, MQTT 5.0 §2):
//
//   byte 0      packet type (bits 7-4) and flags (bits 3-0: DUP, QoS×2, RETAIN for PUBLISH;
//               fixed values for the others [MQTT-2.2.2-1])
//   bytes 1-4   remaining length, a variable byte integer of at most four bytes
//   …           variable header (packet id, v5 properties) and payload

import mqttPacket from 'mqtt-packet';
import type {
  IAuthPacket,
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  IPingreqPacket,
  IPingrespPacket,
  IPubackPacket,
  IPubcompPacket,
  IPublishPacket,
  IPubrecPacket,
  IPubrelPacket,
  ISubackPacket,
  ISubscribePacket,
  ISubscription,
  IUnsubackPacket,
  IUnsubscribePacket,
  Packet as LibraryPacket,
  UserProperties as LibraryUserProperties,
} from 'mqtt-packet';

/** The protocol levels Weir speaks: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export type ProtocolVersion = 4 | 5;
export type Qos = 0 | 1 | 2;

export type ConnectPacket = IConnectPacket;
export type ConnackPacket = IConnackPacket;
export type PublishPacket = IPublishPacket;
export type PubackPacket = IPubackPacket;
export type PubrecPacket = IPubrecPacket;
export type PubrelPacket = IPubrelPacket;
export type PubcompPacket = IPubcompPacket;
export type SubscribePacket = ISubscribePacket;
export type SubackPacket = ISubackPacket;
export type UnsubscribePacket = IUnsubscribePacket;
export type UnsubackPacket = IUnsubackPacket;
export type PingreqPacket = IPingreqPacket;
export type PingrespPacket = IPingrespPacket;
export type DisconnectPacket = IDisconnectPacket;
export type AuthPacket = IAuthPacket;
export type Subscription = ISubscription;
export type UserProperties = LibraryUserProperties;
export type Packet = LibraryPacket;

/** What the library's parser produces once it has seen a CONNECT (it keeps the version). */
export interface LibraryParser {
  on(event: 'packet', listener: (packet: Packet) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  parse(buffer: Buffer): number;
}

export function createLibraryParser(protocolVersion: ProtocolVersion): LibraryParser {
  return mqttPacket.parser({ protocolVersion }) as unknown as LibraryParser;
}

// The library otherwise builds, on its first packet, a cache of 65,536 two-byte Buffers for
// the numbers it writes: about 6 MiB of heap for the life of the process. Weir writes the
// packets where speed matters (PUBLISH, acknowledgements) itself (encoder.ts); the others
// (CONNACK, SUBACK, …) can allocate their few numbers.
mqttPacket.writeToStream.cacheNumbers = false;

export function generatePacket(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

/** Packet type numbers (byte 0, bits 7-4). */
export const PacketType = {
  reserved: 0,
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
} as const;
