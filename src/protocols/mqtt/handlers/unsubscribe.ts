// UNSUBSCRIBE → UNSUBACK (MQTT 3.1.1 §3.10-3.11, 5.0 §3.10-3.11): the subscription stops
// [MQTT-3.10.4-2], its durable consumers are deleted, and UNSUBACK carries the same packet id
// [MQTT-3.10.4-4] with, in 5.0, one reason code per filter: 0x00, or 0x11 when there was no
// such subscription.

import type { UnsubscribePacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import { deleteSubscriptionConsumers, releaseSubscription } from '../lifecycle.js';
import type { MqttSession } from '../session.js';

export function handleUnsubscribe(connection: MqttSession, packet: UnsubscribePacket): void {
  connection.serial(async () => {
    const session = connection.session;
    const registry = connection.registry;
    if (session === undefined) return;
    const reasons: number[] = [];
    for (const filter of packet.unsubscriptions) {
      const existing = session.subscriptions.get(filter);
      if (existing === undefined) {
        reasons.push(ReasonCode.noSubscriptionExisted);
        continue;
      }
      session.deleteSubscription(filter);
      registry.stats.subscriptions--;
      releaseSubscription(existing);
      await deleteSubscriptionConsumers(registry, session, existing);
      reasons.push(ReasonCode.success);
    }
    if (connection.state !== 'connected') return;
    if (connection.protocolVersion === 5) {
      connection.send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: reasons });
    } else {
      connection.send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
    }
    if (session.persistent) {
      void registry.saveSession(session);
    }
  });
}
