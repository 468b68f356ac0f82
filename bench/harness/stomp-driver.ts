// STOMP 1.2 drivers for the load generator: a publisher that writes pre-encoded SEND
// frames whose receipt ids are the message indexes, and a subscriber with
// client-individual acks, one write of ACK frames per read.
import type net from 'node:net';
import type { GeneratorConfig } from './generator-messages.js';
import { createPayload, stampPayload } from './payload.js';
import type { PayloadListener, PublisherDriver, SubscriberDriver } from './protocol-driver.js';
import {
  encodeFrame,
  encodeSendTemplate,
  parseReceiptId,
  StompFrameReader,
  writeReceiptId,
  type SendTemplate,
  type StompFrame,
  type StompHeaders,
} from './stomp-frames.js';
import { endSocket, openSocket } from './tcp.js';

const receiptIdsMax = 0xffffffff;

function describeError(frame: StompFrame): Error {
  const message = frame.headers.get('message') ?? 'no message header';
  const detail = frame.body.toString('utf8').trim();
  return new Error(`STOMP ERROR: ${message}${detail === '' ? '' : `: ${detail.slice(0, 300)}`}`);
}

/** Connects, sends CONNECT and resolves once CONNECTED arrives. */
async function handshake(
  config: GeneratorConfig,
  onFrame: (frame: StompFrame) => void,
  onError: (error: Error) => void,
): Promise<net.Socket> {
  const socket = await openSocket(config.host, config.port);
  const reader = new StompFrameReader();
  return new Promise((resolve, reject) => {
    let connected = false;
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.read(chunk, (frame) => {
          if (!connected) {
            if (frame.command === 'CONNECTED') {
              connected = true;
              resolve(socket);
            } else {
              reject(frame.command === 'ERROR' ? describeError(frame) : new Error(`got ${frame.command}`));
            }
            return;
          }
          if (frame.command === 'ERROR') onError(describeError(frame));
          else onFrame(frame);
        });
      } catch (error) {
        onError(error as Error);
        socket.destroy();
      }
    });
    socket.on('error', (error) => (connected ? onError(error) : reject(error)));
    socket.on('close', () => {
      if (!connected) reject(new Error('connection closed before CONNECTED'));
    });
    const headers: [string, string][] = [
      ['accept-version', '1.2'],
      ['host', '/'],
      ['heart-beat', '0,0'],
    ];
    if (config.username !== undefined) headers.push(['login', config.username]);
    if (config.password !== undefined) headers.push(['passcode', config.password]);
    socket.write(encodeFrame('CONNECT', headers));
  });
}

/** Sends DISCONNECT with a receipt and waits for it (STOMP 1.2: graceful disconnect). */
async function disconnect(socket: net.Socket, awaitReceipt: (id: string) => Promise<void>): Promise<void> {
  const receipt = awaitReceipt('disconnect');
  socket.write(encodeFrame('DISCONNECT', [['receipt', 'disconnect']]));
  await Promise.race([receipt, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  await endSocket(socket);
}

export class StompPublisherDriver implements PublisherDriver {
  readonly confirms: boolean;
  readonly inflightLimit = receiptIdsMax;
  private socket: net.Socket | undefined;
  private readonly templates: SendTemplate[];
  private readonly namedReceipts = new Map<string, () => void>();
  private drainListener: () => void = () => {};
  private confirmListener: (index: number | undefined) => void = () => {};
  private errorListener: (error: Error) => void = () => {};
  private closing = false;

  constructor(private readonly config: GeneratorConfig) {
    this.confirms = config.qos === 1;
    this.templates = config.destinations.map((destination, stream) =>
      encodeSendTemplate(
        destination,
        createPayload(config.messageBytes, stream),
        config.stompSendHeaders,
        config.qos === 1,
      ),
    );
  }

  async connect(): Promise<void> {
    const socket = await handshake(
      this.config,
      (frame) => {
        if (frame.command !== 'RECEIPT') return;
        const id = frame.headers.get('receipt-id') ?? '';
        const named = this.namedReceipts.get(id);
        if (named !== undefined) named();
        else this.confirmListener(parseReceiptId(id));
      },
      (error) => this.errorListener(error),
    );
    socket.on('drain', () => this.drainListener());
    socket.on('data', () => this.confirmListener(undefined));
    socket.on('close', () => {
      if (!this.closing) this.errorListener(new Error('the broker closed the publisher connection'));
    });
    this.socket = socket;
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
    if (template.receiptOffset !== undefined) writeReceiptId(target, offset + template.receiptOffset, index);
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
    if (this.socket === undefined) return;
    await disconnect(this.socket, (id) => new Promise((resolve) => this.namedReceipts.set(id, resolve)));
  }
}

export class StompSubscriberDriver implements SubscriberDriver {
  private socket: net.Socket | undefined;
  private readonly namedReceipts = new Map<string, () => void>();
  private payloadListener: PayloadListener = () => {};
  private errorListener: (error: Error) => void = () => {};
  private closing = false;

  constructor(private readonly config: GeneratorConfig) {}

  async connect(): Promise<void> {
    this.closing = false;
    const acking = this.config.qos === 1;
    let acks: Buffer[] = [];
    const socket = await handshake(
      this.config,
      (frame) => {
        if (frame.command === 'MESSAGE') {
          // Not in STOMP 1.2 itself; RabbitMQ and ActiveMQ mark redeliveries this way.
          const redelivered = frame.headers.get('redelivered') === 'true';
          this.payloadListener(frame.body, 0, frame.body.length, redelivered);
          if (acking) {
            // STOMP 1.2: ACK carries the id from the MESSAGE's ack header.
            const id = frame.headers.get('ack') ?? frame.headers.get('message-id') ?? '';
            acks.push(encodeFrame('ACK', [['id', id]]));
          }
        } else if (frame.command === 'RECEIPT') {
          this.namedReceipts.get(frame.headers.get('receipt-id') ?? '')?.();
        }
      },
      (error) => this.errorListener(error),
    );
    socket.on('data', () => {
      if (acks.length === 0) return;
      socket.write(Buffer.concat(acks));
      acks = [];
    });
    socket.on('close', () => {
      if (!this.closing) this.errorListener(new Error('the broker closed a subscriber connection'));
    });
    this.socket = socket;
    const receipts = this.config.destinations.map((destination, index) => {
      const receiptId = `subscribe-${index}`;
      const confirmed = new Promise<void>((resolve) => this.namedReceipts.set(receiptId, resolve));
      const headers: StompHeaders = [
        ['id', String(index)],
        ['destination', destination],
        ['ack', acking ? 'client-individual' : 'auto'],
        ...this.config.stompSubscribeHeaders,
        ['receipt', receiptId],
      ];
      socket.write(encodeFrame('SUBSCRIBE', headers));
      return confirmed;
    });
    await Promise.all(receipts);
  }

  onPayload(listener: PayloadListener): void {
    this.payloadListener = listener;
  }

  onError(listener: (error: Error) => void): void {
    this.errorListener = listener;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.socket === undefined) return;
    await disconnect(this.socket, (id) => new Promise((resolve) => this.namedReceipts.set(id, resolve)));
  }
}
