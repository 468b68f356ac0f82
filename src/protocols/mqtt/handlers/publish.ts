// PUBLISH from a client (MQTT 3.1.1 §3.3, 5.0 §3.3): topic alias, topic checks, inbound
// flow control, QoS 0/1/2 into the core, retained messages; and the will, which is a
// PUBLISH the broker makes for a client that went away.
//
// QoS 1 is acknowledged once the core confirms the message durable (or, with no stream
// capturing its subject, delivered to live subscribers); QoS 2 uses method B of MQTT 5.0
// §4.3.3: the packet id is kept from PUBREC to PUBREL, and a duplicate PUBLISH meanwhile is
// answered without being published again.

import { isUtf8 } from 'node:buffer';
import { ErrorCode, isWeirError } from '../../../common/errors.js';
import type { CoreSession, PublishInput } from '../../../core/api.js';
import { createMessage } from '../../../core/message.js';
import { validateSubject } from '../../../core/subject.js';
import type { PublishPacket, Qos } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import {
  InvalidTopicError,
  publishToInput,
  reasonCodeFor,
  topicToSubject,
  validateTopicName,
} from '../mapping.js';
import { endInbound, holdInbound, messageFingerprint, restoredInboundDiffers } from '../exchanges.js';
import type { MqttRegistry } from '../registry.js';
import type { MqttSession } from '../session.js';
import type { WillMessage } from '../session-state.js';
import { KillPoint, killPointReached } from '../test-hooks.js';

/** Topics under these are the broker's: clients may subscribe, not publish. */
function reservedTopic(topic: string): boolean {
  return topic.startsWith('$SYS/') || topic.startsWith('$MQTT/') || topic === '$SYS' || topic === '$MQTT';
}

export function handlePublish(connection: MqttSession, packet: PublishPacket): void {
  const registry = connection.registry;
  registry.stats.publishReceived++;
  const qos = packet.qos;
  const packetId = packet.messageId ?? 0;
  const v5 = connection.protocolVersion === 5;
  if (qos === 0 && packet.dup) {
    // [MQTT-3.3.1-2]: DUP is 0 for QoS 0.
    connection.protocolError(ReasonCode.malformedPacket, 'DUP set on a QoS 0 PUBLISH');
    return;
  }
  if (qos > 0 && packetId === 0) {
    // [MQTT-2.2.1-3] (3.1.1) / [MQTT-2.2.1-3] (5.0): QoS 1/2 PUBLISH needs a non-zero packet id.
    connection.protocolError(ReasonCode.malformedPacket, 'QoS > 0 PUBLISH without a packet id');
    return;
  }
  if (v5 && packet.properties?.subscriptionIdentifier !== undefined) {
    // [MQTT-3.3.4-6]: a PUBLISH from a client carries no Subscription Identifier.
    connection.protocolError(ReasonCode.protocolError, 'Subscription Identifier in a PUBLISH from a client');
    return;
  }
  let topic = packet.topic;
  const alias = packet.properties?.topicAlias;
  if (v5 && alias !== undefined) {
    // [MQTT-3.3.2-8] (5.0): an alias of 0 or above our Topic Alias Maximum is an error.
    if (alias === 0 || alias > registry.options.topicAliasMaximum) {
      connection.protocolError(ReasonCode.topicAliasInvalid, `topic alias ${alias} out of range`);
      return;
    }
    if (topic.length === 0) {
      const known = connection.inboundAliases.get(alias);
      if (known === undefined) {
        connection.protocolError(ReasonCode.protocolError, `unknown topic alias ${alias}`);
        return;
      }
      topic = known;
    } else {
      connection.inboundAliases.set(alias, topic);
    }
  }
  try {
    validateTopicName(topic);
  } catch (error) {
    // [MQTT-3.3.2-2] wildcards, [MQTT-4.7.3-1] empty: protocol errors that close.
    connection.protocolError(ReasonCode.topicNameInvalid, (error as Error).message);
    return;
  }
  if (qos > 0) {
    const session = connection.session;
    const holding = qos === 2 ? session?.inboundHold(packetId) : undefined;
    if (holding !== undefined && session !== undefined) {
      // A re-send (after a reconnect or a takeover) of a PUBLISH whose hold is still being
      // written: it is answered when that hold settles and is not published again, else the
      // message would be published twice (exactly once, 5.0 §4.3.3).
      connection.inboundUnacknowledged++;
      const pending = connection.reserveAcknowledgement('pubrec', packetId);
      holding.then(
        () => {
          session.inboundReleases.add(packetId);
          connection.completeAcknowledgement(pending, ReasonCode.success);
        },
        (error: unknown) => refuseAfterPublish(connection, pending, error),
      );
      return;
    }
    if (qos === 2 && session?.inboundReleases.has(packetId) === true) {
      const restored = session.hasRecords && session.records.restoredInbound.has(packetId);
      if (
        !restored ||
        (packet.dup && !restoredInboundDiffers(session, packetId, fingerprintOf(packet, topic)))
      ) {
        // A retransmission of a QoS 2 PUBLISH we already hold: PUBREC again, publish nothing.
        connection.sendAcknowledgement('pubrec', packetId);
        return;
      }
      // Held before a restart, but a retransmission would carry DUP [MQTT-3.3.1-1] and the held
      // message: this is a new message, so the client had its PUBCOMP and the hold's end did
      // not reach the disk (exchange-log.ts).
      session.inboundReleases.delete(packetId);
      endInbound(registry, session, packetId);
    }
    if (connection.inboundUnacknowledged >= registry.options.receiveMaximum) {
      // MQTT 5.0 §3.3.4: more than Receive Maximum unacknowledged QoS 1/2 PUBLISH packets.
      connection.protocolError(ReasonCode.receiveMaximumExceeded, 'Receive Maximum exceeded');
      return;
    }
  }
  let refusal: { reasonCode: number; reason: string } | undefined;
  if (reservedTopic(topic)) {
    refusal = { reasonCode: ReasonCode.notAuthorized, reason: `topic ${topic} is reserved for the broker` };
  } else {
    try {
      validateSubject(topicToSubject(topic));
    } catch (error) {
      refusal = { reasonCode: ReasonCode.topicNameInvalid, reason: (error as Error).message };
    }
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  if (refusal === undefined && payload.length > registry.messageBytesMax) {
    refusal = {
      reasonCode: ReasonCode.packetTooLarge,
      reason: `message of ${payload.length} bytes is over the limit of ${registry.messageBytesMax}`,
    };
  }
  if (refusal === undefined && v5 && packet.properties?.payloadFormatIndicator === true && !isUtf8(payload)) {
    refusal = {
      reasonCode: ReasonCode.payloadFormatInvalid,
      reason: 'payload is not UTF-8 as its format indicator says',
    };
  }
  if (refusal !== undefined) {
    registry.stats.publishDropped++;
    // [MQTT-3.3.5-2] (3.1.1): no negative acknowledgement exists, so the connection closes.
    if (!v5) {
      connection.abort();
      return;
    }
    if (qos === 0) return;
    // A PUBREC with a failure reason ends the exchange: the packet id is free again (5.0 §4.3.3).
    connection.inboundUnacknowledged++;
    const pending = connection.reserveAcknowledgement(qos === 1 ? 'puback' : 'pubrec', packetId);
    connection.completeAcknowledgement(pending, refusal.reasonCode, refusal.reason);
    return;
  }
  const core = connection.coreSession;
  if (core === undefined) return;
  const input = publishToInput(packet, topic, {
    clientId: connection.clientId,
    nowMs: registry.clock.nowMs(),
  });
  if (qos === 0) {
    try {
      core.publish(input);
      if (packet.retain) void retain(registry, input, packet).catch(() => undefined);
    } catch (error) {
      // QoS 0 has no acknowledgement to refuse with; the message is dropped and counted.
      registry.stats.publishDropped++;
      connection.logger.debug('QoS 0 publish refused', { topic, error: String(error) });
    }
    return;
  }
  connection.inboundUnacknowledged++;
  const pending = connection.reserveAcknowledgement(qos === 1 ? 'puback' : 'pubrec', packetId);
  const session = connection.session;
  const captured = packet.retain || registry.captures.captured(input.subject);
  if (!captured) {
    // No stream captures it: handing it to live subscribers is all the core would do.
    try {
      core.publish(input);
    } catch (error) {
      refuseAfterPublish(connection, pending, error);
      return;
    }
    if (qos === 1 || session?.persistent !== true) {
      if (qos === 2) session?.inboundReleases.add(packetId);
      connection.completeAcknowledgement(pending, ReasonCode.success);
      return;
    }
  }
  const accepted = (): void => {
    if (qos === 2) connection.session?.inboundReleases.add(packetId);
    connection.completeAcknowledgement(pending, ReasonCode.success);
  };
  if (qos === 1 || session?.persistent !== true) {
    // Captured: the branch above returned otherwise.
    confirm(registry, core, input, packet).then(accepted, (error: unknown) =>
      refuseAfterPublish(connection, pending, error),
    );
    return;
  }
  // A persistent session's QoS 2 hold is recorded with the message, in one transaction, before
  // PUBREC, so that a retransmission after a restart is still recognised, and a kill between
  // storing the message and recording the hold cannot publish it twice (exchange-log.ts).
  const retained = packet.retain ? retain(registry, input, packet) : undefined;
  const fingerprint = fingerprintOf(packet, topic);
  const held = registry.captures.captured(input.subject)
    ? holdInbound(registry, session, packetId, fingerprint, input).catch((error: unknown) => {
        // The stream went since the capture cache looked: live subscribers are all there is.
        if (!isWeirError(error, ErrorCode.NoStream)) throw error;
        core.publish(input);
        return holdInbound(registry, session, packetId, fingerprint);
      })
    : holdInbound(registry, session, packetId, fingerprint);
  const exchange = Promise.all([held, retained]);
  session.trackInboundHold(packetId, exchange);
  exchange.then(
    () => {
      killPointReached(KillPoint.qos2Stored);
      accepted();
    },
    (error: unknown) => {
      // The exchange failed: its hold, once written, goes too.
      held.then(
        () => endInbound(registry, session, packetId),
        () => undefined,
      );
      refuseAfterPublish(connection, pending, error);
    },
  );
}

/** The fingerprint of an inbound QoS 2 message (exchanges.ts), by its topic after alias resolution. */
function fingerprintOf(packet: PublishPacket, topic: string): string {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  return messageFingerprint(topic, payload, packet.qos);
}

function refuseAfterPublish(
  connection: MqttSession,
  pending: ReturnType<MqttSession['reserveAcknowledgement']>,
  error: unknown,
): void {
  connection.logger.debug('publish failed', { error: String(error) });
  if (connection.protocolVersion !== 5) {
    connection.abort();
    return;
  }
  // A failure PUBREC ends the exchange: the packet id is not held (5.0 §4.3.3).
  connection.completeAcknowledgement(pending, reasonCodeFor(error), (error as Error).message);
}

/** Publishes with confirmation; no stream capturing the subject means live delivery only. */
async function confirm(
  registry: MqttRegistry,
  core: CoreSession,
  input: PublishInput,
  packet: PublishPacket,
): Promise<void> {
  const retained = packet.retain ? retain(registry, input, packet) : undefined;
  try {
    await core.publishConfirmed(input);
  } catch (error) {
    if (!isWeirError(error, ErrorCode.NoStream)) throw error;
  }
  await retained;
}

/** Keeps (or clears, for an empty payload) the retained message of the topic [MQTT-3.3.1-5]. */
function retain(registry: MqttRegistry, input: PublishInput, packet: PublishPacket): Promise<void> {
  const body = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  if (body.length > 0 && !registry.retained.canRetain(input.subject)) {
    registry.stats.publishDropped++;
    return Promise.reject(new InvalidTopicError('too many retained messages', ReasonCode.quotaExceeded));
  }
  const message = createMessage({ ...input, body: Buffer.from(body) }, registry.clock.nowMs());
  // Stored with the id it has in memory, so a retained delivery's record (exchanges.ts) names it across restarts.
  return registry.retain(message, { ...input, body: message.body, id: message.id });
}

/** Publishes a will for a client that went away (MQTT 3.1.1 §3.1.2.5, 5.0 §3.1.3.2). */
export function publishWill(registry: MqttRegistry, clientId: string, will: WillMessage): void {
  const core = registry.systemSession();
  const properties = will.properties;
  const packet: PublishPacket = {
    cmd: 'publish',
    topic: will.topic,
    payload: will.payload,
    qos: will.qos as Qos,
    dup: false,
    retain: will.retain,
    properties: {
      ...(properties.payloadFormatIndicator !== undefined
        ? { payloadFormatIndicator: properties.payloadFormatIndicator }
        : {}),
      ...(properties.messageExpiryInterval !== undefined
        ? { messageExpiryInterval: properties.messageExpiryInterval }
        : {}),
      ...(properties.contentType !== undefined ? { contentType: properties.contentType } : {}),
      ...(properties.responseTopic !== undefined ? { responseTopic: properties.responseTopic } : {}),
      ...(properties.correlationData !== undefined ? { correlationData: properties.correlationData } : {}),
      ...(properties.userProperties !== undefined
        ? { userProperties: { ...properties.userProperties } }
        : {}),
    },
  };
  try {
    validateSubject(topicToSubject(will.topic));
  } catch (error) {
    registry.logger.warn('will not published', { clientId, error: String(error) });
    return;
  }
  const input = publishToInput(packet, will.topic, { clientId, nowMs: registry.clock.nowMs() });
  void registry.track(confirm(registry, core, input, packet), `publishing the will of ${clientId}`);
}
