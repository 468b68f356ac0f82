// PUBACK from a client (MQTT 3.1.1 §3.4, 5.0 §3.4): ends a QoS 1 delivery; the core message
// is acked and the in-flight slot freed (5.0 §4.3.2). A PUBACK for a packet
// id not in flight (for example one sent before a reconnect and already redelivered) is
// ignored.

import type { PubackPacket } from '../codec/packets.js';
import type { MqttSession } from '../session.js';

export function handlePuback(connection: MqttSession, packet: PubackPacket): void {
  connection.acknowledged(packet.messageId ?? 0, 'puback', packet.reasonCode ?? 0);
}
