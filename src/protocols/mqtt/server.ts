// The MQTT adapter's entry point: `createMqttServer(context)` builds the ProtocolServer the
// server wires to TCP port 1883 and to WebSocket `/mqtt` (src/core/protocol-server.ts). It
// loads retained messages and persistent sessions from the core's streams before the first
// connection is served, publishes `$SYS/` statistics, and on close ends every connection
// (5.0: DISCONNECT 0x8B Server shutting down).

import type { Duplex } from 'node:stream';
import type { TimerHandle } from '../../common/clock.js';
import { MqttLimits } from '../../common/limits.js';
import { createMessage } from '../../core/message.js';
import type {
  ConnectionInfo,
  ProtocolContext,
  ProtocolServer,
  ProtocolServerFactory,
} from '../../core/protocol-server.js';
import { createCoreState } from './core-state.js';
import type { DurableState } from './durable-state.js';
import { restoreExchanges } from './exchanges.js';
import { scheduleExpiry } from './lifecycle.js';
import { topicToSubject } from './mapping.js';
import { parseMqttOptions } from './options.js';
import type { MqttOptions } from './options.js';
import { MqttRegistry } from './registry.js';
import { MqttSession } from './session.js';
import { SessionState } from './session-state.js';
import { subscriptionStateOf } from './handlers/subscribe.js';

export interface MqttServerOverrides {
  /** Where durable MQTT state lives; default the core's streams (core-state.ts). */
  readonly durable?: DurableState;
  readonly options?: Partial<MqttOptions>;
}

export interface MqttServer extends ProtocolServer {
  /** Resolves once retained messages and sessions are loaded. */
  readonly ready: Promise<void>;
  readonly registry: MqttRegistry;
}

const version = '0.1.0';

export function createMqttServer(context: ProtocolContext, overrides: MqttServerOverrides = {}): MqttServer {
  const options = parseMqttOptions(context.options, {
    packetBytesMax: Math.min(context.limits.frameBytesMax, MqttLimits.packetBytesMax),
    ...overrides.options,
  });
  const durable = overrides.durable ?? createCoreState(context.core, options);
  const registry = new MqttRegistry(
    options,
    context.core,
    context.authenticator,
    context.logger,
    context.clock,
    durable,
    context.limits.messageBytesMax,
  );
  let closing = false;
  let sysTimer: TimerHandle | undefined;

  const ready = (async () => {
    const loaded = await durable.load();
    for (const message of loaded.retained) registry.retained.set(message);
    const nowMs = context.clock.nowMs();
    for (const record of loaded.sessions) {
      // A persistent session waits for its client; its expiry continues from its disconnect.
      const session = new SessionState(record.clientId, record.expiryIntervalS, record.protocolVersion);
      session.stored = true;
      for (const subscription of record.subscriptions) {
        session.setSubscription(subscription.filter, subscriptionStateOf(subscription, true));
      }
      registry.sessions.set(record.clientId, session);
      registry.stats.persistentSessions++;
      registry.stats.subscriptions += record.subscriptions.length;
      scheduleExpiry(registry, session, nowMs - (record.disconnectedAtMs ?? nowMs));
    }
    restoreExchanges(registry, loaded.exchanges);
    if (options.sysIntervalMs > 0) {
      const publishStatistics = (): void => {
        if (closing) return;
        publishSys(registry);
        sysTimer = context.clock.setTimeout(publishStatistics, options.sysIntervalMs);
      };
      publishStatistics();
    }
  })();
  ready.catch((error: unknown) =>
    context.logger.error('MQTT state failed to load', { error: String(error) }),
  );

  return {
    name: 'mqtt',
    ready,
    registry,
    handleConnection(stream: Duplex, info: ConnectionInfo): void {
      if (closing) {
        stream.destroy();
        return;
      }
      // Over the connection limit, the CONNECT is still read so that the refusal is in the
      // client's own protocol version: CONNACK 0x89 Server busy (5.0) / 0x03 (3.1.1).
      const overLimit = registry.connections.size >= context.limits.connectionsMax;
      stream.pause();
      const start = (): void => {
        const session = new MqttSession(registry, stream, info, overLimit);
        registry.connections.add(session);
        stream.resume();
      };
      ready.then(start, () => stream.destroy());
    },
    async close(): Promise<void> {
      closing = true;
      sysTimer?.cancel();
      await ready.catch(() => undefined);
      await Promise.all([...registry.connections].map((connection) => connection.shutdown()));
      for (const session of registry.sessions.values()) session.cancelTimers();
      await registry.close();
      await durable.close();
    },
  };
}

/** `$SYS/` statistics: retained in memory (not in the log) and published live. */
function publishSys(registry: MqttRegistry): void {
  const nowMs = registry.clock.nowMs();
  const values = registry.stats.snapshot(nowMs, registry.retained.size, version);
  const core = registry.systemSession();
  for (const [topic, value] of values) {
    const subject = topicToSubject(topic);
    const previous = registry.retained.get(subject);
    if (previous !== undefined && previous.body.toString() === value) continue;
    const input = { subject, body: Buffer.from(value), headers: { '$mqtt.retain': true }, persistent: false };
    registry.retained.set(createMessage(input, nowMs));
    core.publish(input);
  }
}

// The server registers this factory for `mqtt` (src/server/protocols.ts).
createMqttServer satisfies ProtocolServerFactory;
