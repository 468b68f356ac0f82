// AUTH (MQTT 5.0 §3.15, §4.12). Enhanced authentication is not configured in Weir, so a
// CONNECT naming an Authentication Method is refused with 0x8C (handlers/connect.ts), and an
// AUTH packet closes the connection with 0x8C Bad authentication method. In 3.1.1 packet
// type 15 is reserved and the decoder refuses it.

import type { AuthPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttSession } from '../session.js';

export function handleAuth(connection: MqttSession, _packet: AuthPacket): void {
  connection.protocolError(ReasonCode.badAuthenticationMethod, 'enhanced authentication is not supported');
}
