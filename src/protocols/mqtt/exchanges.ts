// What a persistent session writes to the exchange log (exchange-log.ts) so that its open
// exchanges survive a restart, and how they are read back at start. A clean session writes
// nothing: it ends with its connection, and with the broker.
//
// Each hold resolves once the record is durable; the caller sends the packet that commits
// the broker to the exchange (PUBREC, PUBREL, the retained PUBLISH) only then. Ending an
// exchange does not wait (exchange-log.ts says why that is safe).

import { createHash } from 'node:crypto';
import { assert } from '../../common/assert.js';
import type { Message, PublishInput } from '../../core/api.js';
import { exchangeKey } from './exchange-log.js';
import type { DeliveryOrigin, ExchangeHandle } from './exchange-log.js';
import type { MqttRegistry } from './registry.js';
import { originKey } from './session-state.js';
import type { SessionState } from './session-state.js';

/** True while `session` is the registry's live session for its client id and persistent. */
function owns(registry: MqttRegistry, session: SessionState): boolean {
  return session.persistent && registry.sessions.get(session.clientId) === session;
}

/**
 * What tells an inbound QoS 2 message from another one sent with the same packet id: its
 * topic, payload and QoS. A re-send carries the same three [MQTT-3.3.1-1]; 16 bytes of
 * SHA-256 make a collision between two different messages of one packet id negligible.
 */
export function messageFingerprint(topic: string, payload: Buffer, qos: number): string {
  const topicBytes = Buffer.from(topic, 'utf8');
  const header = Buffer.alloc(5);
  header.writeUInt8(qos, 0);
  header.writeUInt32BE(topicBytes.length, 1);
  return createHash('sha256')
    .update(header)
    .update(topicBytes)
    .update(payload)
    .digest('base64url')
    .slice(0, 22);
}

/** True when a restored inbound hold of `packetId` is for another message than `fingerprint`'s. */
export function restoredInboundDiffers(
  session: SessionState,
  packetId: number,
  fingerprint: string,
): boolean {
  if (!session.hasRecords || !session.records.restoredInbound.has(packetId)) return false;
  const record = session.records.inbound.get(packetId)?.record;
  // A record without a fingerprint (written by an older version) cannot be told apart: it is trusted.
  return record?.kind === 'inbound' && record.fingerprint !== undefined && record.fingerprint !== fingerprint;
}

/**
 * Inbound QoS 2: records that `packetId` is held (PUBREC about to be sent), with the
 * message's fingerprint. With `message`, also stores the message, in the same transaction
 * (exchange-log.ts says why).
 */
export async function holdInbound(
  registry: MqttRegistry,
  session: SessionState,
  packetId: number,
  fingerprint: string,
  message?: PublishInput,
): Promise<void> {
  assert(session.persistent || message === undefined, 'only a persistent session stores with its hold');
  if (!session.persistent) return;
  const handle = await registry.durable.holdExchange(
    { kind: 'inbound', clientId: session.clientId, packetId, fingerprint },
    message,
  );
  if (!owns(registry, session)) {
    registry.durable.endExchange(handle);
    return;
  }
  const records = session.records;
  const previous = records.inbound.get(packetId);
  if (previous !== undefined) registry.durable.endExchange(previous);
  records.inbound.set(packetId, handle);
  records.restoredInbound.delete(packetId);
}

/** Inbound QoS 2: `packetId` was released (PUBREL), or a new PUBLISH replaced a restored hold. */
export function endInbound(registry: MqttRegistry, session: SessionState, packetId: number): void {
  if (!session.hasRecords) return;
  const records = session.records;
  records.restoredInbound.delete(packetId);
  const handle = records.inbound.get(packetId);
  if (handle === undefined) return;
  records.inbound.delete(packetId);
  registry.durable.endExchange(handle);
}

/** Outbound QoS 2: records that `packetId` got PUBREC (PUBREL about to be sent). */
export async function holdRelease(
  registry: MqttRegistry,
  session: SessionState,
  packetId: number,
  origin: DeliveryOrigin | undefined,
  retained: ExchangeHandle | undefined,
): Promise<void> {
  if (!session.persistent) return;
  const handle = await registry.durable.holdExchange({
    kind: 'release',
    clientId: session.clientId,
    packetId,
    origin,
    ...(retained !== undefined ? { retainedKey: exchangeKey(retained.record) } : {}),
  });
  if (!owns(registry, session)) {
    registry.durable.endExchange(handle);
    return;
  }
  const records = session.records;
  const previous = records.release.get(packetId);
  if (previous !== undefined) endRelease(registry, session, packetId);
  records.release.set(packetId, handle);
  if (origin !== undefined) records.releasedOrigins.set(originKey(origin), packetId);
}

/** Outbound QoS 2: PUBCOMP came for `packetId`. */
export function endRelease(registry: MqttRegistry, session: SessionState, packetId: number): void {
  if (!session.hasRecords) return;
  const records = session.records;
  const handle = records.release.get(packetId);
  if (handle === undefined) return;
  records.release.delete(packetId);
  if (handle.record.kind === 'release' && handle.record.origin !== undefined) {
    records.releasedOrigins.delete(originKey(handle.record.origin));
  }
  registry.durable.endExchange(handle);
}

/** A retained message about to be sent at subscribe with QoS 1/2; undefined for a clean session. */
export async function holdRetained(
  registry: MqttRegistry,
  session: SessionState,
  filter: string,
  message: Message,
): Promise<ExchangeHandle | undefined> {
  if (!session.persistent) return undefined;
  const handle = await registry.durable.holdExchange({
    kind: 'retained',
    clientId: session.clientId,
    filter,
    subject: message.subject,
    messageId: message.id,
  });
  if (!owns(registry, session)) {
    registry.durable.endExchange(handle);
    return undefined;
  }
  session.records.retained.add(handle);
  return handle;
}

/** The retained message was acknowledged (or will never be sent). */
export function endRetained(registry: MqttRegistry, session: SessionState, handle: ExchangeHandle): void {
  if (session.hasRecords) session.records.retained.delete(handle);
  registry.durable.endExchange(handle);
}

/** The session ends: every record it holds goes. */
export function endAllExchanges(registry: MqttRegistry, session: SessionState): void {
  if (!session.hasRecords) return;
  const records = session.records;
  for (const handle of records.all()) registry.durable.endExchange(handle);
  records.inbound.clear();
  records.restoredInbound.clear();
  records.release.clear();
  records.releasedOrigins.clear();
  records.retained.clear();
}

/** At start: each open exchange back on its session; those of sessions that ended are ended. */
export function restoreExchanges(registry: MqttRegistry, handles: readonly ExchangeHandle[]): void {
  // A retained delivery whose PUBREC was recorded, and whose own record's end was lost: done.
  const released = new Set<string>();
  for (const { record } of handles) {
    if (record.kind === 'release' && record.retainedKey !== undefined) released.add(record.retainedKey);
  }
  for (const handle of handles) {
    const record = handle.record;
    const session = registry.sessions.get(record.clientId);
    if (session === undefined || !session.persistent || released.has(exchangeKey(record))) {
      registry.durable.endExchange(handle);
      continue;
    }
    const records = session.records;
    switch (record.kind) {
      case 'inbound':
        session.inboundReleases.add(record.packetId);
        records.inbound.set(record.packetId, handle);
        records.restoredInbound.add(record.packetId);
        break;
      case 'release':
        session.outboundReleases.add(record.packetId);
        records.release.set(record.packetId, handle);
        if (record.origin !== undefined)
          records.releasedOrigins.set(originKey(record.origin), record.packetId);
        break;
      case 'retained':
        records.retained.add(handle);
        break;
    }
  }
}
