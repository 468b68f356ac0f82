// PUBREC from a client (MQTT 3.1.1 §3.5, 5.0 §3.5): the client holds a QoS 2 message; the
// core message is acked and PUBREL sent (5.0 §4.3.3). For a packet id not in
// flight, 5.0 answers PUBREL with 0x92 Packet Identifier not found; 3.1.1 releases it anyway
// so the client's state for that id ends.

import type { PubrecPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttSession } from '../session.js';

export function handlePubrec(connection: MqttSession, packet: PubrecPacket): void {
  const packetId = packet.messageId ?? 0;
  if (connection.acknowledged(packetId, 'pubrec', packet.reasonCode ?? 0)) return;
  connection.sendAcknowledgement(
    'pubrel',
    packetId,
    connection.protocolVersion === 5 ? ReasonCode.packetIdentifierNotFound : 0,
  );
}
