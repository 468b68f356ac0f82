// PUBCOMP from a client (MQTT 3.1.1 §3.7, 5.0 §3.7): ends an outbound QoS 2 exchange and
// frees its in-flight slot and packet id. An unknown id is ignored.

import type { PubcompPacket } from '../codec/packets.js';
import type { MqttSession } from '../session.js';

export function handlePubcomp(connection: MqttSession, packet: PubcompPacket): void {
  connection.completed(packet.messageId ?? 0);
}
