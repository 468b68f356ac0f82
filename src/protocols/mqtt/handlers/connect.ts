// CONNECT → CONNACK (MQTT 3.1.1 §3.1-3.2, 5.0 §3.1-3.2): protocol checks, client id,
// authentication through the server's Authenticator, session takeover and resumption, the
// will, and the limits each side announces.

import { isWeirError, ErrorCode } from '../../../common/errors.js';
import type { ConnectPacket, ConnackPacket } from '../codec/packets.js';
import { connectReturnCodeFor, ReasonCode } from '../codec/reason-codes.js';
import { endSession, releaseSubscriptions } from '../lifecycle.js';
import { InvalidTopicError, validateTopicName } from '../mapping.js';
import type { MqttSession } from '../session.js';
import { SessionState } from '../session-state.js';
import type { SubscriptionOptions, WillMessage } from '../session-state.js';
import { activateSubscription, subscriptionStateOf } from './subscribe.js';

const expiryNever = 0xffff_ffff;

export async function handleConnect(connection: MqttSession, packet: ConnectPacket): Promise<void> {
  const registry = connection.registry;
  const options = registry.options;
  const version = packet.protocolVersion;
  // [MQTT-3.1.2-1]: protocol name "MQTT"; [MQTT-3.1.2-2]: unsupported level → CONNACK 0x01.
  if (packet.protocolId !== 'MQTT' || (version !== 4 && version !== 5)) {
    refuse(connection, ReasonCode.unsupportedProtocolVersion, 'MQTT 3.1.1 and 5.0 only');
    return;
  }
  connection.protocolVersion = version;
  if (connection.overLimit) {
    refuse(connection, ReasonCode.serverBusy, 'too many connections');
    return;
  }
  const properties = packet.properties ?? {};
  const clean = packet.clean !== false;
  if (version === 4 && packet.password !== undefined && packet.username === undefined) {
    // [MQTT-3.1.2-22] (3.1.1): a password needs a user name.
    connection.abort();
    return;
  }
  let clientId = packet.clientId;
  let assigned = false;
  if (clientId.length === 0) {
    // [MQTT-3.1.3-7] (3.1.1): an empty client id needs clean session = 1, else 0x02 [MQTT-3.1.3-8].
    if ((version === 4 && !clean) || !options.allowEmptyClientId) {
      refuse(connection, ReasonCode.clientIdentifierNotValid, 'an empty client id needs a clean session');
      return;
    }
    // [MQTT-3.1.3-6]: assign a unique id, returned in CONNACK (5.0) [MQTT-3.1.3-7].
    clientId = registry.assignClientId();
    assigned = true;
  }
  if (version === 5) {
    // MQTT 5.0 §3.1.2.11: Receive Maximum and Maximum Packet Size of 0 are protocol errors.
    if (properties.receiveMaximum === 0 || properties.maximumPacketSize === 0) {
      refuse(connection, ReasonCode.protocolError, 'Receive Maximum and Maximum Packet Size must not be 0');
      return;
    }
    if (properties.authenticationMethod !== undefined) {
      // Enhanced authentication (§4.12) is not configured: 0x8C Bad authentication method.
      refuse(connection, ReasonCode.badAuthenticationMethod, 'enhanced authentication is not supported');
      return;
    }
    if (properties.receiveMaximum !== undefined) connection.clientReceiveMaximum = properties.receiveMaximum;
    if (properties.maximumPacketSize !== undefined)
      connection.clientPacketBytesMax = properties.maximumPacketSize;
    connection.clientTopicAliasMaximum = properties.topicAliasMaximum ?? 0;
    connection.requestProblemInformation = properties.requestProblemInformation !== false;
  }
  connection.clientReceiveMaximum = Math.min(connection.clientReceiveMaximum, options.inflightMax);

  let will: WillMessage | undefined;
  if (packet.will !== undefined) {
    try {
      validateTopicName(packet.will.topic);
    } catch (error) {
      if (error instanceof InvalidTopicError) {
        refuse(connection, ReasonCode.topicNameInvalid, error.message);
        return;
      }
      throw error;
    }
    const willProperties = packet.will.properties ?? {};
    will = {
      topic: packet.will.topic,
      payload: Buffer.isBuffer(packet.will.payload) ? packet.will.payload : Buffer.from(packet.will.payload),
      qos: packet.will.qos ?? 0,
      retain: packet.will.retain === true,
      delayS: willProperties.willDelayInterval ?? 0,
      properties: willProperties,
    };
  }

  try {
    connection.principal = await registry.authenticator.authenticate({
      protocol: 'mqtt',
      username: packet.username,
      password: packet.password,
      remoteAddress: connection.info.remoteAddress,
      loopback: connection.info.loopback,
    });
  } catch (error) {
    if (isWeirError(error, ErrorCode.AuthenticationFailed)) {
      refuse(connection, ReasonCode.badUserNameOrPassword, error.message);
      return;
    }
    if (isWeirError(error, ErrorCode.NotAuthorized)) {
      refuse(connection, ReasonCode.notAuthorized, error.message);
      return;
    }
    throw error;
  }
  if (connection.state !== 'connecting') return; // the peer went away meanwhile

  // Session takeover [MQTT-3.1.4-2] (3.1.1) / [MQTT-3.1.4-3] (5.0).
  const existing = registry.sessions.get(clientId);
  if (existing?.connection !== undefined) existing.connection.takeOver();

  const expiryIntervalS = version === 4 ? (clean ? 0 : expiryNever) : (properties.sessionExpiryInterval ?? 0);
  let session = registry.sessions.get(clientId);
  let sessionPresent = false;
  const stored = registry.storedSessions.get(clientId);
  if (clean) {
    // [MQTT-3.1.2-6] (3.1.1) / [MQTT-3.1.2-4] (5.0): clean start discards any existing session.
    if (session !== undefined) await endSession(registry, session);
    if (stored !== undefined) {
      registry.storedSessions.delete(clientId);
      await endSession(registry, restoreSession(stored.clientId, stored.expiryIntervalS, version, []));
    }
    session = undefined;
  } else if (session !== undefined) {
    sessionPresent = true; // [MQTT-3.2.2-2] (3.1.1) / [MQTT-3.2.2-2] (5.0)
  } else if (stored !== undefined) {
    registry.storedSessions.delete(clientId);
    session = restoreSession(clientId, stored.expiryIntervalS, version, stored.subscriptions);
    registry.stats.persistentSessions++;
    sessionPresent = true;
  }
  if (connection.state !== 'connecting') return;
  if (session === undefined) {
    session = new SessionState(clientId, expiryIntervalS, version);
  } else {
    if (session.persistent && session.connection === undefined) registry.stats.persistentSessions--;
    // A client back before its will delay passed: the will is not sent (5.0 §3.1.3.2.2).
    session.cancelTimers();
    session.pendingWill = undefined;
    session.expiryIntervalS = expiryIntervalS;
    session.protocolVersion = version;
    releaseSubscriptions(session);
  }
  registry.sessions.set(clientId, session);
  session.connection = connection;
  connection.session = session;
  connection.clientId = clientId;
  connection.will = will;
  connection.coreSession = registry.core.openSession({
    clientId,
    ...(connection.principal !== undefined ? { principal: connection.principal } : {}),
  });

  let keepAliveS = packet.keepalive ?? 0;
  let serverKeepAlive: number | undefined;
  if (
    version === 5 &&
    options.keepAliveMaxS !== undefined &&
    (keepAliveS === 0 || keepAliveS > options.keepAliveMaxS)
  ) {
    keepAliveS = options.keepAliveMaxS;
    serverKeepAlive = keepAliveS; // [MQTT-3.1.2-21]: the client uses the Server Keep Alive.
  }
  const connack: ConnackPacket = { cmd: 'connack', sessionPresent };
  if (version === 5) {
    connack.reasonCode = ReasonCode.success;
    connack.properties = {
      receiveMaximum: options.receiveMaximum,
      maximumPacketSize: options.packetBytesMax,
      topicAliasMaximum: options.topicAliasMaximum,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    };
    if (assigned) connack.properties.assignedClientIdentifier = clientId;
    if (serverKeepAlive !== undefined) connack.properties.serverKeepAlive = serverKeepAlive;
    if (expiryIntervalS > options.sessionExpiryMaxS && expiryIntervalS !== 0) {
      session.expiryIntervalS = options.sessionExpiryMaxS;
      connack.properties.sessionExpiryInterval = options.sessionExpiryMaxS;
    }
  } else {
    connack.returnCode = 0;
  }
  connection.send(connack);
  connection.connectedWith(keepAliveS);
  registry.stats.connected();
  // [MQTT-4.4.0-1]: unacknowledged PUBRELs again; durable deliveries come back from the core
  // with DUP set as their consumers redeliver.
  connection.resendReleases();
  // Retained messages sent at subscribe and not acknowledged, before anything newer.
  connection.resendRetained();
  for (const subscription of session.subscriptions.values())
    await activateSubscription(connection, subscription);
  if (session.persistent) {
    void registry.saveSession(session);
  }
}

function restoreSession(
  clientId: string,
  expiryIntervalS: number,
  version: 4 | 5,
  subscriptions: readonly SubscriptionOptions[],
): SessionState {
  const session = new SessionState(clientId, expiryIntervalS, version);
  session.stored = true;
  for (const options of subscriptions)
    session.setSubscription(options.filter, subscriptionStateOf(options, true));
  return session;
}

/** CONNACK with a failure, then close [MQTT-3.2.2-5] (3.1.1) / [MQTT-3.2.2-7] (5.0). */
function refuse(connection: MqttSession, reasonCode: number, reasonString: string): void {
  const packet: ConnackPacket = { cmd: 'connack', sessionPresent: false };
  if (connection.protocolVersion === 5) {
    packet.reasonCode = reasonCode;
    packet.properties = { reasonString };
  } else {
    packet.returnCode = connectReturnCodeFor(reasonCode);
  }
  connection.logger.debug('CONNECT refused', { reasonCode, reasonString });
  connection.send(packet);
  connection.abort();
}
