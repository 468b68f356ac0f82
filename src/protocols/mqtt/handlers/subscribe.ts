// SUBSCRIBE → SUBACK, then retained messages (MQTT 3.1.1 §3.8-3.9, 5.0 §3.8-3.9, §4.8.2).
//
// A subscription of a clean session, and any QoS 0 subscription, is a live subscription in
// the core (one per subject filter: `a/#` is `a` and `a.>`), `$share/g/f` a live queue group.
// A QoS 1/2 subscription of a persistent session is fed by durable consumers — shared by the
// group for `$share` — so that its messages wait in the log while the client is away.

import { MqttLimits } from '../../../common/limits.js';
import { validateFilter } from '../../../core/subject.js';
import type { SubscribePacket, Qos } from '../codec/packets.js';
import { ReasonCode, reasonCodeForPacket } from '../codec/reason-codes.js';
import { holdRetained } from '../exchanges.js';
import { deleteSubscriptionConsumers, knownConsumers, releaseSubscription } from '../lifecycle.js';
import {
  InvalidTopicError,
  filterToSubjectFilters,
  parseSharedFilter,
  publishedQos,
  reasonCodeFor,
  validateTopicFilter,
} from '../mapping.js';
import type { MqttSession } from '../session.js';
import type { SubscriptionOptions, SubscriptionState } from '../session-state.js';

/**
 * Filters a client may not subscribe to: the adapter's own state (`$MQTT`: retained messages,
 * session records), temporary queues (`$TMPQ`, owned by the session that made them), and
 * request-reply inboxes by wildcard (`$INBOX/+`, `$INBOX/#`: other sessions' replies). A
 * requester may still subscribe to its own inbox by its exact topic.
 */
function brokerOnlyFilter(topicFilter: string): boolean {
  const firstLevel = topicFilter.split('/', 1)[0];
  if (firstLevel === '$MQTT' || firstLevel === '$TMPQ') return true;
  return firstLevel === '$INBOX' && (topicFilter.includes('+') || topicFilter.includes('#'));
}

export function subscriptionStateOf(options: SubscriptionOptions, persistent: boolean): SubscriptionState {
  // `$SYS/` statistics are live only: queueing them for an absent client has no value.
  const durable = persistent && options.qos > 0 && !options.topicFilter.startsWith('$SYS');
  return { options, durable, consumers: [], live: [], attachments: [] };
}

export function handleSubscribe(connection: MqttSession, packet: SubscribePacket): void {
  const identifier = packet.properties?.subscriptionIdentifier;
  if (identifier === 0) {
    // MQTT 5.0 §3.8.2.1.2: a Subscription Identifier of 0 is a protocol error.
    connection.protocolError(ReasonCode.protocolError, 'Subscription Identifier 0');
    return;
  }
  for (const subscription of packet.subscriptions) {
    // [MQTT-3.8.3-4] (5.0): No Local on a shared subscription is a protocol error.
    if (subscription.nl === true && subscription.topic.startsWith('$share/')) {
      connection.protocolError(ReasonCode.protocolError, 'No Local on a shared subscription');
      return;
    }
    if (subscription.rh !== undefined && subscription.rh > 2) {
      connection.protocolError(ReasonCode.protocolError, 'Retain Handling 3 is reserved');
      return;
    }
  }
  connection.serial(() => subscribeAll(connection, packet, identifier));
}

async function subscribeAll(
  connection: MqttSession,
  packet: SubscribePacket,
  identifier: number | undefined,
): Promise<void> {
  const registry = connection.registry;
  const session = connection.session;
  if (session === undefined) return;
  const granted: number[] = [];
  const retainedFor: { state: SubscriptionState; existed: boolean }[] = [];
  for (const requested of packet.subscriptions) {
    let shareGroup: string | undefined;
    let topicFilter = requested.topic;
    try {
      const shared = parseSharedFilter(requested.topic);
      if (shared !== undefined) {
        shareGroup = shared.group;
        topicFilter = shared.filter;
      } else {
        validateTopicFilter(requested.topic);
      }
      if (brokerOnlyFilter(topicFilter)) {
        granted.push(failureCode(connection, ReasonCode.notAuthorized));
        continue;
      }
      for (const subjectFilter of filterToSubjectFilters(topicFilter)) validateSubjectFilter(subjectFilter);
    } catch (error) {
      granted.push(
        failureCode(
          connection,
          error instanceof InvalidTopicError ? error.reasonCode : ReasonCode.topicFilterInvalid,
        ),
      );
      continue;
    }
    const existing = session.subscriptions.get(requested.topic);
    if (existing === undefined && session.subscriptions.size >= registry.options.subscriptionsMax) {
      granted.push(failureCode(connection, ReasonCode.quotaExceeded));
      continue;
    }
    const options: SubscriptionOptions = {
      filter: requested.topic,
      topicFilter,
      shareGroup,
      qos: requested.qos as Qos,
      noLocal: connection.protocolVersion === 5 && requested.nl === true,
      retainAsPublished: connection.protocolVersion === 5 && requested.rap === true,
      retainHandling: connection.protocolVersion === 5 ? ((requested.rh ?? 0) as 0 | 1 | 2) : 0,
      identifier,
    };
    // [MQTT-3.8.4-3]: a subscription to the same filter replaces the existing one.
    if (existing !== undefined) {
      releaseSubscription(existing);
      knownConsumers(registry, session.clientId, existing);
    }
    const state = subscriptionStateOf(options, session.persistent);
    try {
      if (state.durable) {
        state.consumers = await registry.durable.consumersFor(session.clientId, options);
        if (existing !== undefined && existing.consumers.length > 0) {
          const kept = new Set(state.consumers.map((ref) => `${ref.stream}/${ref.consumer}`));
          const dropped = existing.consumers.filter((ref) => !kept.has(`${ref.stream}/${ref.consumer}`));
          await deleteSubscriptionConsumers(registry, session, existing, dropped);
        }
      } else if (existing !== undefined && existing.consumers.length > 0) {
        await deleteSubscriptionConsumers(registry, session, existing);
      }
      if (connection.state !== 'connected') {
        await keepAfterClose(connection, state, existing);
        return;
      }
      session.setSubscription(requested.topic, state);
      // A durable subscription starts after its retained messages are sent (below), so that
      // they come first; its consumer already exists and keeps what is published meanwhile.
      if (!state.durable) await activateSubscription(connection, state);
    } catch (error) {
      connection.logger.warn('subscription failed', { filter: requested.topic, error: String(error) });
      session.deleteSubscription(requested.topic);
      granted.push(failureCode(connection, reasonCodeFor(error)));
      continue;
    }
    if (existing === undefined) registry.stats.subscriptions++;
    granted.push(options.qos); // [MQTT-3.9.3-1]: one code per filter, in order
    retainedFor.push({ state, existed: existing !== undefined });
  }
  if (connection.state !== 'connected') return;
  // The subscriptions are in the session's record before SUBACK, so that a subscription
  // granted survives a kill that follows at once (its consumer is durable already).
  if (session.persistent) await registry.saveSession(session);
  if (connection.state !== 'connected') return;
  // [MQTT-3.8.4-1] SUBACK with the SUBSCRIBE's packet id [MQTT-3.8.4-2].
  connection.send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted });
  const nowMs = registry.clock.nowMs();
  for (const { state, existed } of retainedFor) {
    const options = state.options;
    // Retained messages: not for shared subscriptions (5.0 §4.8.2); Retain Handling 1 only
    // for a new subscription [MQTT-3.3.1-10], 2 never [MQTT-3.3.1-11], else always
    // [MQTT-3.3.1-9] (5.0) / [MQTT-3.3.1-6] (3.1.1).
    const wanted =
      options.shareGroup === undefined &&
      options.retainHandling !== 2 &&
      !(options.retainHandling === 1 && existed);
    const messages = wanted ? registry.retained.match(options.topicFilter, nowMs) : [];
    if (!state.durable) {
      for (const message of messages) connection.deliver(state, message, undefined, true);
      continue;
    }
    // A persistent session records its QoS 1/2 retained deliveries before sending them, so
    // that one not acknowledged is sent again after a reconnect or a restart (exchanges.ts).
    const records = await Promise.all(
      messages.map((message) =>
        Math.min(publishedQos(message), options.qos) > 0
          ? holdRetained(registry, session, options.filter, message)
          : undefined,
      ),
    );
    if (connection.state !== 'connected') return;
    messages.forEach((message, index) => connection.deliver(state, message, undefined, true, records[index]));
    await activateSubscription(connection, state);
  }
}

/**
 * The connection closed while a durable subscription's consumers were being made. The
 * SUBSCRIBE was processed all the same (only its SUBACK is lost with the connection), so a
 * persistent session still registered keeps the subscription, and its consumers go with
 * the session; consumers of a session that ended meanwhile belong to no one and go now.
 */
async function keepAfterClose(
  connection: MqttSession,
  state: SubscriptionState,
  existing: SubscriptionState | undefined,
): Promise<void> {
  const registry = connection.registry;
  const session = connection.session;
  if (session === undefined || !state.durable || state.consumers.length === 0) return;
  if (session.persistent && registry.sessions.get(session.clientId) === session) {
    if (!session.subscriptions.has(state.options.filter)) registry.stats.subscriptions++;
    session.setSubscription(state.options.filter, state);
    await registry.saveSession(session);
    return;
  }
  const before = new Set((existing?.consumers ?? []).map((ref) => `${ref.stream}/${ref.consumer}`));
  const made = state.consumers.filter((ref) => !before.has(`${ref.stream}/${ref.consumer}`));
  await deleteSubscriptionConsumers(registry, session, state, made);
}

/** SUBACK failure: the v5 reason code, or 0x80 in 3.1.1 (§3.9.3). */
function failureCode(connection: MqttSession, reasonCode: number): number {
  return connection.protocolVersion === 5 ? reasonCodeForPacket('suback', reasonCode) : 0x80;
}

function validateSubjectFilter(subjectFilter: string): void {
  try {
    validateFilter(subjectFilter);
  } catch (error) {
    throw new InvalidTopicError(
      error instanceof Error ? error.message : String(error),
      ReasonCode.topicFilterInvalid,
    );
  }
}

/** Starts feeding a subscription to a connected session: live subscriptions or consumer attachments. */
export async function activateSubscription(connection: MqttSession, state: SubscriptionState): Promise<void> {
  const core = connection.coreSession;
  if (core === undefined || connection.state !== 'connected') return;
  const options = state.options;
  if (state.durable) {
    if (state.consumers.length === 0) {
      state.consumers = await connection.registry.durable.consumersFor(connection.clientId, options);
    }
    if (connection.state !== 'connected') return;
    for (const ref of state.consumers) {
      state.attachments.push(
        core.attach(ref.stream, ref.consumer, {
          credit: connection.clientReceiveMaximum,
          onDelivery: (delivery) => connection.deliver(state, delivery.message, delivery),
          onClosed: (error) => {
            if (error !== undefined)
              connection.logger.warn('consumer attachment closed', { error: error.message });
          },
        }),
      );
    }
    return;
  }
  const queueGroup =
    options.shareGroup !== undefined ? `$share/${options.shareGroup}/${options.topicFilter}` : undefined;
  for (const subjectFilter of filterToSubjectFilters(options.topicFilter)) {
    state.live.push(
      core.subscribeLive(subjectFilter, {
        onMessage: (message) => connection.deliver(state, message, undefined),
        noLocal: options.noLocal,
        bufferMessagesMax: MqttLimits.liveBufferMessages,
        ...(queueGroup !== undefined ? { queueGroup } : {}),
      }),
    );
  }
}
