// PUBREL from a client (MQTT 3.1.1 §3.6, 5.0 §3.6): the second half of an inbound QoS 2
// exchange. The packet id may be reused from now on, and PUBCOMP goes back; an unknown id
// gets PUBCOMP with 0x92 in 5.0 (Packet Identifier not found) and a plain PUBCOMP in 3.1.1.

import type { PubrelPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import { endInbound } from '../exchanges.js';
import type { MqttSession } from '../session.js';

export function handlePubrel(connection: MqttSession, packet: PubrelPacket): void {
  const packetId = packet.messageId ?? 0;
  const session = connection.session;
  const known = session?.inboundReleases.delete(packetId) ?? false;
  if (known && connection.inboundUnacknowledged > 0) connection.inboundUnacknowledged--;
  // The hold's record goes too; PUBCOMP does not wait for that (exchange-log.ts says why).
  if (known && session !== undefined) endInbound(connection.registry, session, packetId);
  connection.sendAcknowledgement(
    'pubcomp',
    packetId,
    known || connection.protocolVersion === 4 ? 0 : ReasonCode.packetIdentifierNotFound,
  );
}
