// PINGREQ → PINGRESP (MQTT 3.1.1 §3.12, 5.0 §3.12) [MQTT-3.12.4-1]. Any packet resets the
// keep alive clock; the session does that when bytes arrive.

import type { MqttSession } from '../session.js';

export function handlePingreq(connection: MqttSession): void {
  connection.send({ cmd: 'pingresp' });
}
