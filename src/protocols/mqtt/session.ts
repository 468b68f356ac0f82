// One MQTT network connection: the state machine of MQTT 3.1.1 §3/§4 and 5.0 §3/§4.
//
//   awaiting-connect ──CONNECT──▶ connecting ──CONNACK 0x00──▶ connected ──▶ closed
//          └──────────── anything else, timeout, refusal ─────────────────────▶ closed
//
// The session parses packets with the codec, hands each to its handler (handlers/), and
// writes what the handlers and the core's deliveries produce. Everything runs on the event
// loop: handlers never interleave with each other for one connection, except where a
// handler awaits the core (CONNECT authentication, confirmed publishes), and those keep
// MQTT's ordering with the ordered acknowledgement queue below [MQTT-4.6.0-2, -3].
//
// Outbound QoS 1/2 flow control: at most the client's Receive Maximum (5.0) or
// `inflightMax` (3.1.1) PUBLISH packets are unacknowledged [MQTT-3.3.4-9]; the rest wait,
// in the core for durable subscriptions (credit) or in a bounded queue for live ones.

import type { Duplex } from 'node:stream';
import { MqttLimits } from '../../common/limits.js';
import type { Logger } from '../../common/logger.js';
import type { CoreSession, Delivery, Message } from '../../core/api.js';
import type { Principal } from '../../core/auth.js';
import type { ConnectionInfo } from '../../core/protocol-server.js';
import { MqttDecodeError, MqttDecoder, remainingLengthMax } from './codec/decoder.js';
import { encodeAcknowledgement, encodePacket, encodePublish } from './codec/encoder.js';
import type { Packet, ProtocolVersion, PublishPacket, Qos } from './codec/packets.js';
import { ReasonCode, reasonCodeForPacket } from './codec/reason-codes.js';
import { handleAuth } from './handlers/auth.js';
import { handleConnect } from './handlers/connect.js';
import { handleDisconnect } from './handlers/disconnect.js';
import { handlePingreq } from './handlers/pingreq.js';
import { handlePuback } from './handlers/puback.js';
import { handlePubcomp } from './handlers/pubcomp.js';
import { handlePublish } from './handlers/publish.js';
import { handlePubrec } from './handlers/pubrec.js';
import { handlePubrel } from './handlers/pubrel.js';
import { handleSubscribe } from './handlers/subscribe.js';
import { handleUnsubscribe } from './handlers/unsubscribe.js';
import type { DeadlineMember } from './deadlines.js';
import { endConnection } from './lifecycle.js';
import {
  filterStartsWithWildcard,
  messageProperties,
  publishedQos,
  publishedRetain,
  publisherOf,
  subjectToTopic,
} from './mapping.js';
import { exchangeKey } from './exchange-log.js';
import type { ExchangeHandle } from './exchange-log.js';
import { endRelease, endRetained, holdRelease } from './exchanges.js';
import { deliveryPacketId, retainedPacketId } from './packet-ids.js';
import type { MqttRegistry } from './registry.js';
import { originKey } from './session-state.js';
import type { SessionState, SubscriptionState, WillMessage } from './session-state.js';

export type ConnectionState = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

/** A QoS 1/2 PUBLISH sent to the client and not yet completed. */
interface Outgoing {
  readonly qos: 1 | 2;
  readonly delivery: Delivery | undefined;
  /** The record of a retained message sent at subscribe to a persistent session (exchanges.ts). */
  readonly retained: ExchangeHandle | undefined;
  /**
   * `publish` until PUBACK/PUBREC; `releasing` while a persistent session records the
   * PUBREC; `release` after PUBREL was sent, until PUBCOMP.
   */
  stage: 'publish' | 'releasing' | 'release';
}

/** A delivery waiting for a free in-flight slot. */
interface Queued {
  readonly subscription: SubscriptionState;
  readonly message: Message;
  readonly delivery: Delivery | undefined;
  readonly qos: Qos;
  readonly retainedOnSubscribe: boolean;
  readonly retained: ExchangeHandle | undefined;
}

/** An acknowledgement waiting for the ones before it (MQTT's ordering). */
interface PendingAcknowledgement {
  readonly kind: 'puback' | 'pubrec';
  readonly packetId: number;
  reasonCode: number;
  reasonString: string | undefined;
  done: boolean;
}

/**
 * The session a stream belongs to. The stream's listeners are functions shared by every
 * connection that find their session here, rather than closures made for each connection:
 * an idle connection is mostly what it holds, and closures and their contexts add up.
 */
const sessionOfStream = Symbol('weir.mqtt.session');
interface SessionStream extends Duplex {
  [sessionOfStream]?: MqttSession;
}

export class MqttSession implements DeadlineMember {
  readonly registry: MqttRegistry;
  readonly info: ConnectionInfo;
  #logger: Logger | undefined;
  readonly #stream: Duplex;
  readonly #decoder: MqttDecoder;
  state: ConnectionState = 'awaiting-connect';
  protocolVersion: ProtocolVersion = 4;
  clientId = '';
  principal: Principal | undefined;
  session: SessionState | undefined;
  coreSession: CoreSession | undefined;
  will: WillMessage | undefined;
  /** Keep alive in seconds as enforced (the client's, or the Server Keep Alive). */
  keepAliveS = 0;
  #lastPacketAtMs = 0;
  /** Where the CONNECT timeout or keep alive waits in the registry's deadlines (deadlines.ts). */
  deadlineSlice = -1;
  /** Packets that arrived while CONNECT was being authenticated. */
  #held: Packet[] | undefined;

  // Limits the client announced in CONNECT (v5), or ours.
  clientReceiveMaximum: number;
  /** Default: the largest packet MQTT can frame (a small integer, unlike MAX_SAFE_INTEGER, so not a boxed double). */
  clientPacketBytesMax = remainingLengthMax + 5;
  clientTopicAliasMaximum = 0;
  requestProblemInformation = true;

  // Topic aliases [MQTT-3.3.2-7]: never carried from one connection to another.
  #inboundAliases: Map<number, string> | undefined;
  #outboundAliasMap: Map<string, number> | undefined;

  /** QoS 1/2 PUBLISH packets from the client not yet acknowledged (our Receive Maximum). */
  inboundUnacknowledged = 0;
  #acknowledgementList: PendingAcknowledgement[] | undefined;

  /** QoS 1/2 PUBLISH packets in flight to the client, by packet id (made on first use). */
  #outgoingMap: Map<number, Outgoing> | undefined;
  #queuedList: Queued[] | undefined;
  #nextPacketId = 1;
  /** Output of this turn of the event loop, written by #flush (made on first use). */
  #outgoingChunks: Buffer[] | undefined;
  #outgoingBytes = 0;
  #yielding = false;
  /** SUBSCRIBE and UNSUBSCRIBE run one after another, in the order they arrived. */
  #serial: Promise<void> | undefined;
  closed: Promise<void> | undefined;

  /** Accepted past the connection limit: its CONNECT is refused with Server busy. */
  readonly overLimit: boolean;

  constructor(registry: MqttRegistry, stream: Duplex, info: ConnectionInfo, overLimit = false) {
    this.registry = registry;
    this.overLimit = overLimit;
    this.info = info;
    this.#stream = stream;
    this.#decoder = new MqttDecoder(registry.options.packetBytesMax);
    this.clientReceiveMaximum = registry.options.inflightMax;
    (stream as SessionStream)[sessionOfStream] = this;
    stream.on('data', MqttSession.#streamData);
    stream.on('error', MqttSession.#streamError);
    stream.on('close', MqttSession.#streamEnded);
    stream.on('end', MqttSession.#streamEnded);
    // MQTT 3.1.4: a Server closes a connection that does not send CONNECT in reasonable time.
    registry.deadlines.schedule(this, registry.clock.nowMs() + registry.options.connectTimeoutMs);
  }

  static #streamData(this: SessionStream, chunk: Buffer): void {
    const session = this[sessionOfStream];
    if (session !== undefined) session.#onData(chunk);
  }

  static #streamError(this: SessionStream, error: Error): void {
    const session = this[sessionOfStream];
    if (session === undefined) return;
    session.logger.debug('connection error', { error: error.message });
    session.abort();
  }

  static #streamEnded(this: SessionStream): void {
    this[sessionOfStream]?.abort();
  }

  static #resume(session: MqttSession): void {
    session.#yielding = false;
    if (session.state !== 'closed') session.#stream.resume();
  }

  static #flushLater(session: MqttSession): void {
    session.#flush();
  }

  get inboundAliases(): Map<number, string> {
    return (this.#inboundAliases ??= new Map());
  }

  get #outboundAliases(): Map<string, number> {
    return (this.#outboundAliasMap ??= new Map());
  }

  get #outgoing(): Map<number, Outgoing> {
    return (this.#outgoingMap ??= new Map());
  }

  // The acknowledgement queue and the delivery queue are made on first use too.
  get #acknowledgements(): PendingAcknowledgement[] {
    return (this.#acknowledgementList ??= []);
  }

  get #queued(): Queued[] {
    return (this.#queuedList ??= []);
  }

  /** A child logger naming the peer, made on first use (most connections never log). */
  get logger(): Logger {
    this.#logger ??= this.registry.logger.child({
      remote: `${this.info.remoteAddress}:${this.info.remotePort}`,
      ...(this.clientId.length > 0 ? { clientId: this.clientId } : {}),
    });
    return this.#logger;
  }

  // ---------------------------------------------------------------------------------------
  // Input

  #onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    // Fairness: after a large read, this connection waits for the next turn of the event
    // loop, so that deliveries (the live router's turn, socket writes) and other
    // connections get theirs. A publisher flooding QoS 0 is slowed by TCP instead of
    // crowding out its subscribers (DESIGN.md §4: producers are flow-controlled too).
    if (chunk.length >= MqttLimits.readYieldBytes && !this.#yielding) {
      this.#yielding = true;
      this.#stream.pause();
      setImmediate(MqttSession.#resume, this);
    }
    this.registry.stats.bytesReceived += chunk.length;
    this.#lastPacketAtMs = this.registry.clock.nowMs();
    try {
      this.#decoder.push(chunk, (packet) => {
        if (this.state === 'closed') return;
        this.registry.stats.messagesReceived++;
        if (this.#held !== undefined) this.#held.push(packet);
        else this.#dispatch(packet);
      });
    } catch (error) {
      if (error instanceof MqttDecodeError) {
        if (this.state === 'awaiting-connect' && error.kind === 'unsupported-version') {
          // [MQTT-3.1.2-2]: an unsupported protocol level gets CONNACK 0x01 and a close.
          this.#write(encodePacket({ cmd: 'connack', returnCode: 0x01, sessionPresent: false }, 4));
          this.abort();
          return;
        }
        this.protocolError(error.reasonCode, error.message);
        return;
      }
      throw error;
    }
  }

  #dispatch(packet: Packet): void {
    if (this.state === 'awaiting-connect') {
      // [MQTT-3.1.0-1]: the first packet from the client must be CONNECT.
      if (packet.cmd !== 'connect') {
        this.abort();
        return;
      }
      this.state = 'connecting';
      // The CONNECT arrived in time: authentication, clean-up and restore may take as long as
      // the disk does, and the keep alive starts with CONNACK (connectedWith).
      this.registry.deadlines.remove(this);
      this.#held = [];
      // Packets may follow CONNECT before CONNACK: decode them in the version it names.
      if (packet.protocolVersion === 4 || packet.protocolVersion === 5) {
        this.#decoder.setProtocolVersion(packet.protocolVersion);
      }
      handleConnect(this, packet).then(
        () => this.#releaseHeld(),
        (error: unknown) => {
          this.logger.error('CONNECT failed', { error: String(error) });
          this.abort();
        },
      );
      return;
    }
    switch (packet.cmd) {
      case 'connect':
        // [MQTT-3.1.0-2]: a second CONNECT is a protocol violation.
        this.protocolError(ReasonCode.protocolError, 'second CONNECT on one connection');
        return;
      case 'publish':
        handlePublish(this, packet);
        return;
      case 'puback':
        handlePuback(this, packet);
        return;
      case 'pubrec':
        handlePubrec(this, packet);
        return;
      case 'pubrel':
        handlePubrel(this, packet);
        return;
      case 'pubcomp':
        handlePubcomp(this, packet);
        return;
      case 'subscribe':
        handleSubscribe(this, packet);
        return;
      case 'unsubscribe':
        handleUnsubscribe(this, packet);
        return;
      case 'pingreq':
        handlePingreq(this);
        return;
      case 'disconnect':
        handleDisconnect(this, packet);
        return;
      case 'auth':
        handleAuth(this, packet);
        return;
      case 'connack':
      case 'suback':
      case 'unsuback':
      case 'pingresp':
        // Server-to-client packets sent by a client: a protocol error (MQTT 5.0 §4.13).
        this.protocolError(ReasonCode.protocolError, `a client may not send ${packet.cmd.toUpperCase()}`);
        return;
    }
  }

  #releaseHeld(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const packet of held) {
      if (this.state !== 'connected') return;
      this.#dispatch(packet);
    }
  }

  /** Called by the CONNECT handler once CONNACK 0x00 is written. */
  connectedWith(keepAliveS: number): void {
    this.state = 'connected';
    this.keepAliveS = keepAliveS;
    this.#decoder.setProtocolVersion(this.protocolVersion);
    const deadlines = this.registry.deadlines;
    if (keepAliveS > 0) deadlines.schedule(this, this.registry.clock.nowMs() + keepAliveS * 1500);
    else deadlines.remove(this);
  }

  /**
   * The CONNECT timeout (until CONNECT is read), or the keep alive: [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0),
   * close after 1.5 × keep alive of silence. Traffic only moves `#lastPacketAtMs`; the
   * deadline moves here, when it comes.
   */
  onDeadline(nowMs: number): number | undefined {
    if (this.state === 'awaiting-connect') {
      this.abort();
      return undefined;
    }
    if (this.state !== 'connected' || this.keepAliveS === 0) return undefined;
    const limitMs = this.keepAliveS * 1500;
    if (nowMs - this.#lastPacketAtMs >= limitMs) {
      this.logger.debug('keep alive timeout', { clientId: this.clientId });
      this.disconnectWith(ReasonCode.keepAliveTimeout, 'keep alive timeout');
      return undefined;
    }
    return this.#lastPacketAtMs + limitMs;
  }

  /** Runs `task` after every task queued before it; a failure closes the connection. */
  serial(task: () => Promise<void>): void {
    this.#serial = (this.#serial ?? Promise.resolve()).then(task).catch((error: unknown) => {
      this.logger.error('MQTT handler failed', { error: String(error) });
      this.abort();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Output

  /**
   * Queues bytes for the socket; everything queued in one turn of the event loop leaves in
   * one write (DESIGN.md §8), so a delivery turn of thousands of messages is one syscall.
   */
  #write(bytes: Buffer): void {
    if (this.#stream.destroyed) return;
    if (this.#outgoingChunks === undefined) {
      this.#outgoingChunks = [bytes];
      process.nextTick(MqttSession.#flushLater, this);
    } else {
      this.#outgoingChunks.push(bytes);
    }
    this.#outgoingBytes += bytes.length;
    this.registry.stats.bytesSent += bytes.length;
    this.registry.stats.messagesSent++;
  }

  #flush(): void {
    const chunks = this.#outgoingChunks;
    const total = this.#outgoingBytes;
    this.#outgoingChunks = undefined;
    this.#outgoingBytes = 0;
    if (this.#stream.destroyed || chunks === undefined) return;
    this.#stream.write(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
  }

  /** Bytes written or queued and not yet taken by the operating system. */
  get #unsentBytes(): number {
    return this.#stream.writableLength + this.#outgoingBytes;
  }

  /** Sends a packet unless it is larger than the client's Maximum Packet Size [MQTT-3.1.2-24] (5.0). */
  send(packet: Packet): boolean {
    const bytes = encodePacket(packet, this.protocolVersion);
    if (bytes.length > this.clientPacketBytesMax) return false;
    this.#write(bytes);
    return true;
  }

  sendAcknowledgement(
    kind: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp',
    packetId: number,
    reasonCode = 0,
    reasonString?: string,
  ): void {
    if (reasonCode === 0 || this.protocolVersion === 4) {
      this.#write(encodeAcknowledgement(kind, packetId));
      return;
    }
    const properties =
      reasonString !== undefined && this.requestProblemInformation ? { reasonString } : undefined;
    this.send({
      cmd: kind,
      messageId: packetId,
      reasonCode,
      ...(properties ? { properties } : {}),
    } as Packet);
  }

  /**
   * Reserves a slot in the ordered acknowledgement queue for an inbound QoS 1/2 PUBLISH;
   * `complete` fills it in, and acknowledgements leave in the order the PUBLISH packets
   * arrived [MQTT-4.6.0-2] [MQTT-4.6.0-3].
   */
  reserveAcknowledgement(kind: 'puback' | 'pubrec', packetId: number): PendingAcknowledgement {
    const pending: PendingAcknowledgement = {
      kind,
      packetId,
      reasonCode: 0,
      reasonString: undefined,
      done: false,
    };
    this.#acknowledgements.push(pending);
    return pending;
  }

  completeAcknowledgement(pending: PendingAcknowledgement, reasonCode: number, reasonString?: string): void {
    pending.done = true;
    pending.reasonCode = reasonCode;
    pending.reasonString = reasonString;
    while (this.#acknowledgements.length > 0 && (this.#acknowledgements[0] as PendingAcknowledgement).done) {
      const next = this.#acknowledgements.shift() as PendingAcknowledgement;
      if (this.state !== 'connected') continue;
      const reason = reasonCodeForPacket(next.kind, next.reasonCode);
      // QoS 1 ends with PUBACK; QoS 2 with PUBREL, or with a failure PUBREC (5.0 §4.9).
      if (next.kind === 'puback' || reason >= 0x80) this.inboundUnacknowledged--;
      this.sendAcknowledgement(next.kind, next.packetId, reason, next.reasonString);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Deliveries to the client

  /**
   * Sends a message to the client for one of its subscriptions: from a live subscription
   * (no `delivery`) or a durable consumer (`delivery`, acked when the client acknowledges).
   */
  deliver(
    subscription: SubscriptionState,
    message: Message,
    delivery: Delivery | undefined,
    retainedOnSubscribe = false,
    retained?: ExchangeHandle,
  ): void {
    if (this.state !== 'connected') return;
    const options = subscription.options;
    const core = this.coreSession;
    const session = this.session;
    // [MQTT-4.4.0-1]: a delivery whose PUBREC was recorded before a restart (its ack was
    // lost) is not sent again; its PUBREL is.
    if (
      delivery !== undefined &&
      session?.hasRecords === true &&
      session.records.releasedOrigins.has(originKey(delivery))
    ) {
      core?.ack(delivery);
      return;
    }
    // [MQTT-4.7.2-1]: `$` topics are not matched by a filter starting with a wildcard.
    if (message.subject.charCodeAt(0) === 0x24 && filterStartsWithWildcard(options.topicFilter)) {
      if (delivery !== undefined) core?.ack(delivery);
      if (retained !== undefined && session !== undefined) endRetained(this.registry, session, retained);
      return;
    }
    // [MQTT-3.8.3-3]: No Local — not to the connection (client id) that published it. Checked
    // here for live subscriptions too: a persistent session's QoS 2 messages reach them from
    // the exchange log's core session, not the publisher's (exchange-log.ts).
    if (!retainedOnSubscribe && options.noLocal && publisherOf(message) === this.clientId) {
      if (delivery !== undefined) core?.ack(delivery);
      return;
    }
    // The delivered QoS is the lower of the published and the granted one (§3.8.4).
    const published = publishedQos(message);
    const qos = (published < options.qos ? published : options.qos) as Qos;
    if (qos > 0 && (this.outgoingCount >= this.clientReceiveMaximum || this.#queued.length > 0)) {
      this.#enqueue({ subscription, message, delivery, qos, retainedOnSubscribe, retained });
      return;
    }
    if (!this.#sendPublish(subscription, message, delivery, qos, retainedOnSubscribe, retained)) {
      this.#notSent(delivery, retained);
    }
  }

  /** A message that will not be sent (expired, too large for the client) counts as done. */
  #notSent(delivery: Delivery | undefined, retained: ExchangeHandle | undefined): void {
    if (delivery !== undefined) this.coreSession?.ack(delivery);
    if (retained !== undefined && this.session !== undefined)
      endRetained(this.registry, this.session, retained);
  }

  #enqueue(queued: Queued): void {
    // Durable deliveries are bounded by their attachment's credit, recorded retained ones by
    // the retained index (and are not dropped: the session is owed them); live ones by
    // queuedMessagesMax.
    if (
      queued.delivery === undefined &&
      queued.retained === undefined &&
      this.#queued.length >= this.registry.options.queuedMessagesMax
    ) {
      this.registry.stats.publishDropped++;
      return;
    }
    this.#queued.push(queued);
  }

  #drainQueued(): void {
    while (
      this.#queued.length > 0 &&
      this.#outgoing.size < this.clientReceiveMaximum &&
      this.state === 'connected'
    ) {
      const next = this.#queued.shift() as Queued;
      if (
        !this.#sendPublish(
          next.subscription,
          next.message,
          next.delivery,
          next.qos,
          next.retainedOnSubscribe,
          next.retained,
        )
      ) {
        this.#notSent(next.delivery, next.retained);
      }
    }
  }

  /** False when the message was not sent (expired, or too large for the client) and counts as done. */
  #sendPublish(
    subscription: SubscriptionState,
    message: Message,
    delivery: Delivery | undefined,
    qos: Qos,
    retainedOnSubscribe: boolean,
    retained: ExchangeHandle | undefined,
  ): boolean {
    const options = subscription.options;
    const nowMs = this.registry.clock.nowMs();
    // Retain flag: 1 for a retained message sent because of a new subscription
    // [MQTT-3.3.1-8]; otherwise 0 [MQTT-3.3.1-9] (3.1.1), or as published when the v5
    // subscription asks for Retain As Published [MQTT-3.3.1-12] [MQTT-3.3.1-13].
    const retain = retainedOnSubscribe || (options.retainAsPublished && publishedRetain(message));
    let topic = subjectToTopic(message.subject);
    let newAlias: number | undefined;
    let aliasTopic = '';
    let packetId = 0;
    if (qos > 0) packetId = this.#allocatePacketId(delivery, retained);
    // [MQTT-3.3.1-1]: DUP on a message that may have been sent before (a retained one whose
    // record is older than this connection included).
    const dup =
      qos > 0 &&
      ((delivery !== undefined && delivery.redelivered) || (retained !== undefined && retained.sentBefore));
    let bytes: Buffer;
    if (this.protocolVersion === 4) {
      if (message.expiresAtMs !== undefined && message.expiresAtMs <= nowMs) return false;
      bytes = encodePublish(topic, message.body, qos, packetId, dup, retain, 4);
    } else {
      const properties = messageProperties(message, nowMs);
      // [MQTT-3.3.2-5]: an expired message is not delivered.
      if (properties === 'expired') return false;
      let withAlias = properties;
      if (this.clientTopicAliasMaximum > 0) {
        const alias = this.#outboundAliases.get(topic);
        if (alias !== undefined) {
          withAlias = { ...properties, topicAlias: alias };
          topic = '';
        } else if (this.#outboundAliases.size < this.clientTopicAliasMaximum) {
          // [MQTT-3.3.2-9]: aliases stay within the client's Topic Alias Maximum.
          // Recorded only once the packet is written, so a dropped one teaches nothing.
          newAlias = this.#outboundAliases.size + 1;
          aliasTopic = topic;
          withAlias = { ...properties, topicAlias: newAlias };
        }
      }
      if (options.identifier !== undefined)
        withAlias = { ...withAlias, subscriptionIdentifier: options.identifier };
      if (withAlias === undefined) {
        bytes = encodePublish(topic, message.body, qos, packetId, dup, retain, 5);
      } else {
        const packet: PublishPacket = {
          cmd: 'publish',
          topic,
          payload: message.body,
          qos,
          dup,
          retain,
          properties: withAlias,
        };
        if (qos > 0) packet.messageId = packetId;
        bytes = encodePacket(packet, 5);
      }
    }
    // [MQTT-3.1.2-25] (5.0): a packet over the client's Maximum Packet Size is discarded as if sent.
    if (bytes.length > this.clientPacketBytesMax) return false;
    if (qos === 0 && this.#unsentBytes > MqttLimits.writeBufferBytesMax) {
      this.registry.stats.publishDropped++;
      return true;
    }
    if (qos > 0) {
      this.#outgoing.set(packetId, { qos: qos as 1 | 2, delivery, retained, stage: 'publish' });
      if (retained !== undefined) retained.sentBefore = true;
    } else if (delivery !== undefined) this.coreSession?.ack(delivery);
    if (newAlias !== undefined) this.#outboundAliases.set(aliasTopic, newAlias);
    this.registry.stats.publishSent++;
    this.#write(bytes);
    return true;
  }

  /**
   * A free packet id. For a durable delivery it is derived from the message's position, so
   * a redelivery after a reconnect usually carries the id it had before [MQTT-4.4.0-1]; a
   * collision moves to the next free id [MQTT-2.2.1-3].
   */
  #allocatePacketId(delivery: Delivery | undefined, retained: ExchangeHandle | undefined): number {
    let candidate =
      delivery !== undefined
        ? deliveryPacketId(delivery)
        : retained !== undefined
          ? retainedPacketId(exchangeKey(retained.record))
          : this.#nextPacketId;
    const releases = this.session?.hasOutboundReleases === true ? this.session.outboundReleases : undefined;
    while (this.#outgoing.has(candidate) || releases?.has(candidate) === true) {
      candidate = (candidate % 65_535) + 1;
    }
    if (delivery === undefined && retained === undefined) this.#nextPacketId = (candidate % 65_535) + 1;
    return candidate;
  }

  /** PUBACK (QoS 1) or PUBREC (QoS 2) from the client. */
  acknowledged(packetId: number, kind: 'puback' | 'pubrec', reasonCode: number): boolean {
    const outgoing = this.#outgoing.get(packetId);
    if (
      outgoing === undefined ||
      outgoing.stage !== 'publish' ||
      (kind === 'puback') !== (outgoing.qos === 1)
    )
      return false;
    const session = this.session;
    if (kind === 'puback' || reasonCode >= 0x80) {
      // A PUBREC with a failure reason ends the exchange (5.0 §4.3.3).
      this.#settle(outgoing);
      this.#outgoing.delete(packetId);
      this.#drainQueued();
      return true;
    }
    if (session === undefined || !session.persistent) {
      this.#settle(outgoing);
      outgoing.stage = 'release';
      session?.outboundReleases.add(packetId);
      this.sendAcknowledgement('pubrel', packetId);
      return true;
    }
    // A persistent session records the release before the message is acked and PUBREL sent,
    // so that after a restart PUBREL is sent again and the PUBLISH is not [MQTT-4.4.0-1].
    // Records confirm in the order written, so PUBRELs keep the order of PUBRECs [MQTT-4.6.0-4].
    outgoing.stage = 'releasing';
    const delivery = outgoing.delivery;
    const origin =
      delivery === undefined
        ? undefined
        : {
            stream: delivery.stream,
            consumer: delivery.consumer,
            partition: delivery.partition,
            offset: delivery.offset,
          };
    holdRelease(this.registry, session, packetId, origin, outgoing.retained).then(
      () => {
        this.#settle(outgoing);
        if (this.registry.sessions.get(session.clientId) === session) session.outboundReleases.add(packetId);
        if (this.#outgoing.get(packetId) !== outgoing || this.state !== 'connected') return;
        outgoing.stage = 'release';
        this.sendAcknowledgement('pubrel', packetId);
      },
      (error: unknown) => {
        this.logger.warn('recording a QoS 2 release failed', { error: String(error) });
        this.abort();
      },
    );
    return true;
  }

  /** The client has the message: its delivery is acked, its retained record ended. */
  #settle(outgoing: Outgoing): void {
    if (outgoing.delivery !== undefined) {
      try {
        this.coreSession?.ack(outgoing.delivery);
      } catch (error) {
        // The consumer went away meanwhile (its subscription ended): nothing is left to ack.
        this.logger.debug('ack after PUBREC failed', { error: String(error) });
      }
    }
    if (outgoing.retained !== undefined && this.session !== undefined) {
      endRetained(this.registry, this.session, outgoing.retained);
    }
  }

  /** PUBCOMP from the client. */
  completed(packetId: number): boolean {
    const outgoing = this.#outgoing.get(packetId);
    const session = this.session;
    const known = session?.outboundReleases.delete(packetId) ?? false;
    if (known && session !== undefined) endRelease(this.registry, session, packetId);
    if (outgoing !== undefined && outgoing.stage === 'release') this.#outgoing.delete(packetId);
    else if (!known) return false;
    this.#drainQueued();
    return true;
  }

  /** On a resumed session: PUBREL again for every QoS 2 exchange the client has not completed [MQTT-4.4.0-1]. */
  resendReleases(): void {
    const session = this.session;
    if (session === undefined || !session.hasOutboundReleases) return;
    for (const packetId of session.outboundReleases) {
      this.#outgoing.set(packetId, { qos: 2, delivery: undefined, retained: undefined, stage: 'release' });
      this.sendAcknowledgement('pubrel', packetId);
    }
  }

  /**
   * On a resumed session: retained messages sent at subscribe and not acknowledged, again,
   * with DUP, while they are still their topic's retained message (a newer one reaches the
   * subscription through its consumer).
   */
  resendRetained(): void {
    const session = this.session;
    if (session === undefined || !session.hasRecords) return;
    for (const handle of [...session.records.retained]) {
      const record = handle.record;
      if (record.kind !== 'retained') continue;
      const subscription = session.subscriptions.get(record.filter);
      const message = this.registry.retained.get(record.subject);
      if (subscription === undefined || message === undefined || message.id !== record.messageId) {
        endRetained(this.registry, session, handle);
        continue;
      }
      handle.sentBefore = true;
      this.deliver(subscription, message, undefined, true, handle);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Ending

  /** Closes with a reason code: DISCONNECT first in 5.0 [MQTT-4.13.1-1]; just closes in 3.1.1 [MQTT-4.8.0-1]. */
  protocolError(reasonCode: number, reasonString: string): void {
    this.logger.debug('protocol error', { clientId: this.clientId, reasonCode, reasonString });
    this.disconnectWith(reasonCode, reasonString);
  }

  /** Sends DISCONNECT (5.0, once connected) and closes the connection abnormally (the will is published). */
  disconnectWith(reasonCode: number, reasonString?: string): void {
    if (this.state === 'closed') return;
    if (this.protocolVersion === 5 && this.state === 'connected') {
      const properties =
        reasonString !== undefined && this.requestProblemInformation ? { reasonString } : undefined;
      this.send({
        cmd: 'disconnect',
        reasonCode: reasonCodeForPacket('disconnect', reasonCode),
        ...(properties ? { properties } : {}),
      });
    }
    this.abort();
  }

  /** Ends the connection now; the will (if any) is published as for a network failure. */
  abort(): void {
    if (this.state === 'closed') return;
    this.closed = endConnection(this, false);
  }

  /** Ends the connection after a normal DISCONNECT: the will is discarded [MQTT-3.14.4-3]. */
  endNormally(publishWill: boolean): void {
    if (this.state === 'closed') return;
    this.closed = endConnection(this, !publishWill);
  }

  /** Another connection took over this client id [MQTT-3.1.4-2] (3.1.1) / [MQTT-3.1.4-3] (5.0). */
  takeOver(): void {
    if (this.protocolVersion === 5 && this.state === 'connected') {
      this.send({ cmd: 'disconnect', reasonCode: ReasonCode.sessionTakenOver });
    }
    this.abort();
  }

  /** Marks the connection closed and releases what it held; called once by lifecycle.ts. */
  detach(): void {
    this.state = 'closed';
    this.registry.deadlines.remove(this);
    this.#held = undefined;
    this.#queuedList = undefined;
    this.#outgoingMap?.clear();
    this.#acknowledgementList = undefined;
    this.#flush();
    if (!this.#stream.destroyed) this.#stream.end(() => this.#stream.destroy());
    // A peer that never reads must not keep the socket open.
    this.registry.clock.setTimeout(() => this.#stream.destroy(), 1000);
  }

  /** For shutdown: ends the connection with 0x8B (5.0) and resolves when it is closed. */
  async shutdown(): Promise<void> {
    if (this.state !== 'closed') this.disconnectWith(ReasonCode.serverShuttingDown);
    await this.closed;
  }

  get outgoingCount(): number {
    return this.#outgoingMap?.size ?? 0;
  }
}
