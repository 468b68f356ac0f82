// AUTH (MQTT 5.0 §3.15, §4.12). Enhanced authentication is not configured in Weir, so a
// CONNECT naming an Authentication Method is refused with CONNACK 0x8C Bad authentication
// method (handlers/connect.ts). An AUTH packet on a connection whose CONNECT named no method
// is a Protocol Error (§4.12: "If the Client … did not include an Authentication Method in
// the CONNECT packet, it is a Protocol Error to send AUTH"), so it closes with DISCONNECT
// 0x82 — 0x8C is not a DISCONNECT reason code (§3.14.2.1). In 3.1.1 packet type 15 is
// reserved and the decoder refuses it.

import type { AuthPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttSession } from '../session.js';

export function handleAuth(connection: MqttSession, _packet: AuthPacket): void {
  connection.protocolError(ReasonCode.protocolError, 'AUTH without an Authentication Method in CONNECT');
}
