// The MQTT adapter's options (`protocols.mqtt.options` in the configuration), each with its
// default and bounds. parseMqttOptions() rejects unknown fields and bad values with
// InvalidArgumentError naming the field.
//
// Per-session limits and what happens when one is hit (the documented policy):
// - `receiveMaximum`: QoS 1/2 PUBLISH packets a client may have unacknowledged towards the
//   broker; one more closes the connection with 0x93 (MQTT 5.0 §3.3.4).
// - `inflightMax` / the client's Receive Maximum: QoS 1/2 deliveries in flight to a client;
//   further deliveries wait in the core (durable subscriptions: they stay in the stream) or
//   in a per-connection queue of `queuedMessagesMax` (live subscriptions of clean sessions),
//   past which new QoS 0 messages are dropped first, then the oldest QoS 1/2 ones, each
//   counted in `$SYS/broker/publish/messages/dropped`.
// - `subscriptionsMax`: subscriptions per session; one more is refused with 0x97.
// - `sessionExpiryMaxS`: a persistent session (3.1.1 clean session 0, or 5.0 session expiry
//   > 0) ends at most this long after its client disconnects; its durable consumers are
//   deleted and what they still held is released.
// - The messages queued for offline sessions live in interest streams (core-state.ts),
//   bounded by `queueBytesMax` and `queueAgeMaxMs` with `discard: old`: when full, the oldest
//   queued messages are dropped first.
//
// Defaults and bounds are named in MqttLimits (src/common/limits.ts).

import { InvalidArgumentError } from '../../common/errors.js';
import { MqttLimits } from '../../common/limits.js';

export interface MqttOptions {
  /** Largest packet accepted and the Maximum Packet Size announced in CONNACK (v5). */
  readonly packetBytesMax: number;
  readonly receiveMaximum: number;
  readonly inflightMax: number;
  readonly queuedMessagesMax: number;
  readonly subscriptionsMax: number;
  readonly topicAliasMaximum: number;
  readonly sessionExpiryMaxS: number;
  /** When set, clients asking for a longer keep alive (or none) get this one (v5 Server Keep Alive). */
  readonly keepAliveMaxS: number | undefined;
  /** Retained messages kept; a new topic past this is refused (0x97) or not retained (v3). */
  readonly retainedMessagesMax: number;
  readonly queueBytesMax: number;
  readonly queueAgeMaxMs: number;
  /** How often `$SYS/` statistics are published; 0 disables them. */
  readonly sysIntervalMs: number;
  /** Allow CONNECT with an empty client id (an id is assigned). */
  readonly allowEmptyClientId: boolean;
  /** Time a connection may take to send CONNECT. */
  readonly connectTimeoutMs: number;
}

export const mqttOptionDefaults: MqttOptions = {
  packetBytesMax: MqttLimits.packetBytesDefault,
  receiveMaximum: MqttLimits.receiveMaximumDefault,
  inflightMax: MqttLimits.inflightDefault,
  queuedMessagesMax: MqttLimits.queuedMessagesDefault,
  subscriptionsMax: MqttLimits.subscriptionsDefault,
  topicAliasMaximum: MqttLimits.topicAliasDefault,
  sessionExpiryMaxS: MqttLimits.sessionExpiryDefaultS,
  keepAliveMaxS: undefined,
  retainedMessagesMax: MqttLimits.retainedMessagesDefault,
  queueBytesMax: MqttLimits.queueBytesDefault,
  queueAgeMaxMs: MqttLimits.queueAgeDefaultMs,
  sysIntervalMs: MqttLimits.sysIntervalDefaultMs,
  allowEmptyClientId: true,
  connectTimeoutMs: MqttLimits.connectTimeoutDefaultMs,
};

/** Each numeric option's bounds, from MqttLimits. */
const bounds: Record<Exclude<keyof MqttOptions, 'allowEmptyClientId' | 'keepAliveMaxS'>, [number, number]> = {
  packetBytesMax: [MqttLimits.packetBytesMin, MqttLimits.packetBytesMax],
  receiveMaximum: [1, MqttLimits.receiveMaximumMax],
  inflightMax: [1, MqttLimits.inflightMax],
  queuedMessagesMax: [0, MqttLimits.queuedMessagesMax],
  subscriptionsMax: [1, MqttLimits.subscriptionsMax],
  topicAliasMaximum: [0, MqttLimits.topicAliasMax],
  sessionExpiryMaxS: [0, MqttLimits.sessionExpiryMaxS],
  retainedMessagesMax: [0, MqttLimits.retainedMessagesMax],
  queueBytesMax: [MqttLimits.queueBytesMin, Number.MAX_SAFE_INTEGER],
  queueAgeMaxMs: [MqttLimits.queueAgeMinMs, Number.MAX_SAFE_INTEGER],
  sysIntervalMs: [0, MqttLimits.sysIntervalMaxMs],
  connectTimeoutMs: [MqttLimits.connectTimeoutMinMs, MqttLimits.connectTimeoutMaxMs],
};

export function parseMqttOptions(
  input: Readonly<Record<string, unknown>>,
  overrides: Partial<MqttOptions> = {},
): MqttOptions {
  const result: Record<string, unknown> = { ...mqttOptionDefaults, ...overrides };
  for (const [name, value] of Object.entries(input)) {
    if (name === 'allowEmptyClientId') {
      if (typeof value !== 'boolean') throw new InvalidArgumentError(`mqtt.${name} must be a boolean`);
      result[name] = value;
      continue;
    }
    if (name === 'keepAliveMaxS') {
      if (
        value !== undefined &&
        (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MqttLimits.keepAliveMaxS)
      ) {
        throw new InvalidArgumentError(
          `mqtt.${name} must be an integer from 1 to ${MqttLimits.keepAliveMaxS}`,
        );
      }
      result[name] = value;
      continue;
    }
    const range = (bounds as Record<string, [number, number] | undefined>)[name];
    if (range === undefined) throw new InvalidArgumentError(`mqtt.${name} is not a known MQTT option`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw new InvalidArgumentError(`mqtt.${name} must be an integer from ${range[0]} to ${range[1]}`);
    }
    result[name] = value;
  }
  return result as unknown as MqttOptions;
}
