// MQTT 3.1.1 drivers for the load generator: a publisher that writes pre-encoded PUBLISH
// packets and maps PUBACKs back to message indexes, and a subscriber that acks QoS 1
// deliveries with one write per read.
import type net from 'node:net';
import type { GeneratorConfig } from './generator-messages.js';
import {
  encodeConnect,
  encodeDisconnect,
  encodePublishTemplate,
  encodeSubscribe,
  MqttPacketReader,
  MqttPacketType,
  parsePublish,
  pubackBytes,
  writePuback,
  type MqttPacket,
  type PublishTemplate,
} from './mqtt-frames.js';
import { createPayload, stampPayload } from './payload.js';
import type { PayloadListener, PublisherDriver, SubscriberDriver } from './protocol-driver.js';
import { endSocket, openSocket } from './tcp.js';

/** Packet identifiers are 16 bits and never 0 [MQTT-2.3.1-1]. */
const packetIdsMax = 65_535;

function packetIdOf(index: number): number {
  return (index % packetIdsMax) + 1;
}

/** Connects, sends CONNECT and resolves with the socket and reader once CONNACK accepts. */
async function handshake(
  config: GeneratorConfig,
  clientId: string,
  cleanSession: boolean,
  onPacket: (packetRead: MqttPacket) => void,
  onError: (error: Error) => void,
): Promise<net.Socket> {
  const socket = await openSocket(config.host, config.port);
  const reader = new MqttPacketReader();
  return new Promise((resolve, reject) => {
    let connected = false;
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.read(chunk, (packetRead) => {
          if (!connected) {
            if (packetRead.type !== MqttPacketType.Connack) {
              reject(new Error(`expected CONNACK, got packet type ${packetRead.type}`));
              return;
            }
            const returnCode = packetRead.body[1] ?? 255;
            if (returnCode !== 0) {
              reject(new Error(`CONNACK refused the connection with return code ${returnCode}`));
              return;
            }
            connected = true;
            resolve(socket);
            return;
          }
          onPacket(packetRead);
        });
      } catch (error) {
        onError(error as Error);
        socket.destroy();
      }
    });
    socket.on('error', (error) => (connected ? onError(error) : reject(error)));
    socket.on('close', () => {
      if (!connected) reject(new Error('connection closed before CONNACK'));
    });
    socket.write(
      encodeConnect({
        clientId,
        cleanSession,
        keepAliveSeconds: 0,
        ...(config.username === undefined ? {} : { username: config.username }),
        ...(config.password === undefined ? {} : { password: config.password }),
      }),
    );
  });
}

export class MqttPublisherDriver implements PublisherDriver {
  readonly confirms: boolean;
  readonly inflightLimit = packetIdsMax - 1;
  private socket: net.Socket | undefined;
  private readonly templates: PublishTemplate[];
  private readonly indexByPacketId = new Float64Array(packetIdsMax + 1);
  private drainListener: () => void = () => {};
  private confirmListener: (index: number | undefined) => void = () => {};
  private errorListener: (error: Error) => void = () => {};
  private closing = false;

  constructor(private readonly config: GeneratorConfig) {
    this.confirms = config.qos === 1;
    this.templates = config.destinations.map((topic, stream) =>
      encodePublishTemplate(topic, config.qos, createPayload(config.messageBytes, stream)),
    );
  }

  async connect(): Promise<void> {
    const socket = await handshake(
      this.config,
      this.config.clientId,
      true,
      (packetRead) => this.handle(packetRead),
      (error) => this.errorListener(error),
    );
    socket.on('drain', () => this.drainListener());
    socket.on('data', () => this.confirmListener(undefined));
    socket.on('close', () => {
      if (!this.closing) this.errorListener(new Error('the broker closed the publisher connection'));
    });
    this.socket = socket;
  }

  private handle(packetRead: MqttPacket): void {
    if (packetRead.type !== MqttPacketType.Puback) return;
    const index = this.indexByPacketId[packetRead.body.readUInt16BE(0)];
    if (index !== undefined) this.confirmListener(index);
  }

  frameBytes(streamIndex: number): number {
    return this.templates[streamIndex]?.frame.length ?? 0;
  }

  encode(
    target: Buffer,
    offset: number,
    streamIndex: number,
    sequence: number,
    index: number,
    sentNs: number,
  ): void {
    const template = this.templates[streamIndex];
    if (template === undefined) throw new RangeError(`no stream ${streamIndex}`);
    template.frame.copy(target, offset);
    if (template.packetIdOffset !== undefined) {
      const packetId = packetIdOf(index);
      target.writeUInt16BE(packetId, offset + template.packetIdOffset);
      this.indexByPacketId[packetId] = index;
    }
    stampPayload(target, offset + template.payloadOffset, sequence, sentNs);
  }

  write(batch: Buffer): boolean {
    return this.socket?.write(batch) ?? false;
  }

  onDrain(listener: () => void): void {
    this.drainListener = listener;
  }

  onConfirm(listener: (index: number | undefined) => void): void {
    this.confirmListener = listener;
  }

  onError(listener: (error: Error) => void): void {
    this.errorListener = listener;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.socket !== undefined) await endSocket(this.socket, encodeDisconnect());
  }
}

export class MqttSubscriberDriver implements SubscriberDriver {
  private socket: net.Socket | undefined;
  private payloadListener: PayloadListener = () => {};
  private errorListener: (error: Error) => void = () => {};
  private subscribed: (() => void) | undefined;
  private closing = false;

  constructor(
    private readonly config: GeneratorConfig,
    private readonly clientId: string,
  ) {}

  async connect(resume: boolean): Promise<void> {
    this.closing = false;
    let pubacks: Buffer[] = [];
    const socket = await handshake(
      this.config,
      this.clientId,
      !this.config.persistentSession,
      (packetRead) => {
        if (packetRead.type === MqttPacketType.Publish) {
          const view = parsePublish(packetRead);
          // [MQTT-3.3.1-1] DUP marks a redelivery.
          const redelivered = (packetRead.flags & 0x08) !== 0;
          this.payloadListener(packetRead.body, view.payloadOffset, view.payloadLength, redelivered);
          if (view.qos === 1) {
            const puback = Buffer.allocUnsafe(pubackBytes);
            writePuback(puback, 0, view.packetId);
            pubacks.push(puback);
          }
        } else if (packetRead.type === MqttPacketType.Suback) {
          const codes = packetRead.body.subarray(2);
          if (codes.includes(0x80)) this.errorListener(new Error('SUBACK refused a subscription'));
          this.subscribed?.();
        }
      },
      (error) => this.errorListener(error),
    );
    // Acks for everything in one read go out in one write.
    socket.on('data', () => {
      if (pubacks.length === 0) return;
      socket.write(pubacks.length === 1 ? (pubacks[0] as Buffer) : Buffer.concat(pubacks));
      pubacks = [];
    });
    socket.on('close', () => {
      if (!this.closing) this.errorListener(new Error('the broker closed a subscriber connection'));
    });
    this.socket = socket;
    if (resume && this.config.persistentSession) return;
    const subscribed = new Promise<void>((resolve) => (this.subscribed = resolve));
    socket.write(
      encodeSubscribe(
        1,
        this.config.destinations.map((topic) => ({ topic, qos: this.config.qos })),
      ),
    );
    await subscribed;
  }

  onPayload(listener: PayloadListener): void {
    this.payloadListener = listener;
  }

  onError(listener: (error: Error) => void): void {
    this.errorListener = listener;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.socket !== undefined) await endSocket(this.socket, encodeDisconnect());
  }
}
