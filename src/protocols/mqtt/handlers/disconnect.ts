// DISCONNECT from a client (MQTT 3.1.1 §3.14, 5.0 §3.14): a normal end discards the will
// [MQTT-3.14.4-3]; in 5.0 the reason code 0x04 asks for the will anyway, and the Session
// Expiry Interval may change — but not from 0 to non-zero [MQTT-3.14.2-2].

import type { DisconnectPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttSession } from '../session.js';

export function handleDisconnect(connection: MqttSession, packet: DisconnectPacket): void {
  const expiry = packet.properties?.sessionExpiryInterval;
  const session = connection.session;
  if (connection.protocolVersion === 5 && expiry !== undefined && session !== undefined) {
    if (session.expiryIntervalS === 0 && expiry !== 0) {
      connection.protocolError(ReasonCode.protocolError, 'session expiry cannot change from 0 on DISCONNECT');
      return;
    }
    session.expiryIntervalS = Math.min(expiry, connection.registry.options.sessionExpiryMaxS);
  }
  connection.endNormally(packet.reasonCode === ReasonCode.disconnectWithWillMessage);
}
