// How a connection ends and what happens to its session: the will (published now, after
// its delay, or dropped), the session's expiry, and the core handles it held.
//
// MQTT 3.1.1 §3.1.2.4-5 and 5.0 §3.1.2.4-5 (clean session / clean start, session expiry),
// §3.1.2.5 and §3.1.3.2 (will, will delay).

import type { Attachment, LiveSubscription } from '../../core/api.js';
import type { ConsumerRef } from './durable-state.js';
import { endAllExchanges } from './exchanges.js';
import { publishWill } from './handlers/publish.js';
import type { MqttRegistry } from './registry.js';
import type { MqttSession } from './session.js';
import type { SessionState, SubscriptionState } from './session-state.js';

/** The longest session expiry the protocol can say: "never" [MQTT 5.0 §3.1.2.11.2]. */
const expiryNever = 0xffff_ffff;

export async function endConnection(connection: MqttSession, discardWill: boolean): Promise<void> {
  const wasConnected = connection.state === 'connected';
  connection.detach();
  const registry = connection.registry;
  registry.connections.delete(connection);
  if (wasConnected) registry.stats.disconnected();
  const session = connection.session;
  const will = discardWill ? undefined : connection.will;
  connection.will = undefined;
  if (session !== undefined && session.connection === connection) {
    session.connection = undefined;
    releaseSubscriptions(session);
    if (!session.persistent) {
      // A clean session ends with its connection; so does the wait for its will.
      registry.sessions.delete(session.clientId);
      if (will !== undefined) publishWill(registry, session.clientId, will);
      // One that was persistent before (its expiry set to 0 since) leaves consumers and a record.
      const durable = [...session.subscriptions.values()].some(
        (subscription) => subscription.consumers.length > 0,
      );
      if (durable || session.stored)
        void registry.track(endSession(registry, session), 'ending an MQTT session');
    } else {
      if (will !== undefined) {
        if (will.delayS > 0 && connection.protocolVersion === 5) {
          session.pendingWill = will;
          session.willTimer = registry.clock.setTimeout(
            () => {
              session.willTimer = undefined;
              const pending = session.pendingWill;
              session.pendingWill = undefined;
              if (pending !== undefined) publishWill(registry, session.clientId, pending);
            },
            Math.min(will.delayS, session.expiryIntervalS) * 1000,
          );
        } else {
          publishWill(registry, session.clientId, will);
        }
      }
      scheduleExpiry(registry, session);
      registry.stats.persistentSessions++;
      void registry.saveSession(session);
    }
  } else if (session === undefined && will !== undefined && wasConnected) {
    publishWill(registry, connection.clientId, will);
  }
  await connection.coreSession?.close().catch(() => undefined);
}

/** Closes the live subscriptions and consumer attachments that fed a connected session. */
export function releaseSubscriptions(session: SessionState): void {
  for (const subscription of session.subscriptions.values()) releaseSubscription(subscription);
}

export function releaseSubscription(subscription: SubscriptionState): void {
  const live: LiveSubscription[] = subscription.live;
  const attachments: Attachment[] = subscription.attachments;
  subscription.live = [];
  subscription.attachments = [];
  for (const handle of live) handle.close();
  for (const attachment of attachments) attachment.close();
}

/** A subscription's durable consumers, looked up if the session was restored from its record. */
export function knownConsumers(registry: MqttRegistry, clientId: string, subscription: SubscriptionState) {
  if (subscription.durable && subscription.consumers.length === 0) {
    subscription.consumers = registry.durable.findConsumers(clientId, subscription.options);
  }
  return subscription.consumers;
}

/**
 * Deletes the durable consumers of a subscription that ends (unsubscribed, replaced, or its
 * session ended or expired). A `$share` group's consumer is the group's: it stays while
 * another session, connected or not, is still a member, and goes with the last one, so
 * an empty group keeps no messages (MQTT 5.0 §4.8.2).
 */
export async function deleteSubscriptionConsumers(
  registry: MqttRegistry,
  session: SessionState,
  subscription: SubscriptionState,
  consumers: readonly ConsumerRef[] = knownConsumers(registry, session.clientId, subscription),
): Promise<void> {
  if (consumers.length === 0) return;
  if (subscription.options.shareGroup !== undefined) {
    for (const other of registry.sessions.values()) {
      if (other === session) continue;
      // The filter as given (`$share/<group>/<filter>`) names the group's subscription.
      if (other.subscriptions.get(subscription.options.filter)?.durable === true) return;
    }
  }
  await registry.durable.deleteConsumers(consumers);
}

/** Arms the timer that ends a disconnected persistent session, capped by `sessionExpiryMaxS`. */
export function scheduleExpiry(registry: MqttRegistry, session: SessionState, elapsedMs = 0): void {
  session.expiryTimer?.cancel();
  const requestedS =
    session.expiryIntervalS === expiryNever ? Number.MAX_SAFE_INTEGER : session.expiryIntervalS;
  const delayMs = Math.max(0, Math.min(requestedS, registry.options.sessionExpiryMaxS) * 1000 - elapsedMs);
  session.expiryTimer = registry.clock.setTimeout(() => {
    session.expiryTimer = undefined;
    if (session.connection !== undefined) return;
    registry.stats.clientsExpired++;
    void registry.track(endSession(registry, session), 'ending an MQTT session');
  }, delayMs);
}

/** Ends a session for good: its will if still waiting, its durable consumers, its record. */
export async function endSession(registry: MqttRegistry, session: SessionState): Promise<void> {
  session.cancelTimers();
  if (registry.sessions.get(session.clientId) === session) registry.sessions.delete(session.clientId);
  if (session.persistent && session.connection === undefined) registry.stats.persistentSessions--;
  const will = session.pendingWill;
  session.pendingWill = undefined;
  // [MQTT-3.1.3-9] (5.0): a will whose delay has not passed is published when the session ends.
  if (will !== undefined) publishWill(registry, session.clientId, will);
  const subscriptions = [...session.subscriptions.values()];
  session.clearSubscriptions();
  releaseSubscriptions(session);
  endAllExchanges(registry, session);
  try {
    for (const subscription of subscriptions)
      await deleteSubscriptionConsumers(registry, session, subscription);
    if (session.stored) await registry.durable.deleteSession(session.clientId);
    session.stored = false;
  } catch (error) {
    registry.logger.warn('ending MQTT session failed', { clientId: session.clientId, error: String(error) });
  }
}
