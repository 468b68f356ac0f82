// The benchmark's STOMP client: one lean client over TCP, built on Weir's own pure codec,
// used unchanged against every broker so that the client costs the same everywhere and the
// brokers' differences show. STOMP 1.2, receipts, client-individual acks, prefetch headers
// in both dialects.
import net from 'node:net';
import {
  StompParser,
  encodeFrame,
  header,
  type HeaderEntry,
  type StompFrame,
} from '../../../src/protocols/stomp/codec/index.js';

export interface ConnectOptions {
  readonly port: number;
  readonly host?: string;
  readonly login?: string;
  readonly passcode?: string;
  readonly virtualHost?: string;
}

export class BenchClient {
  readonly #socket: net.Socket;
  readonly #parser = new StompParser();
  readonly #receipts = new Map<string, () => void>();
  readonly #subscriptions = new Map<string, (frame: StompFrame) => void>();
  #receiptSequence = 0;
  #onError: (error: Error) => void = () => undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#socket.setNoDelay(true);
  }

  static connect(options: ConnectOptions): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(options.port, options.host ?? '127.0.0.1');
      const client = new BenchClient(socket);
      socket.once('error', reject);
      socket.once('connect', () => {
        const headers: HeaderEntry[] = [
          ['accept-version', '1.2'],
          ['host', options.virtualHost ?? '/'],
          ['heart-beat', '0,0'],
        ];
        if (options.login !== undefined) headers.push(['login', options.login]);
        if (options.passcode !== undefined) headers.push(['passcode', options.passcode]);
        socket.write(encodeFrame({ command: 'CONNECT', headers, body: Buffer.alloc(0) }, '1.2'));
      });
      let connected = false;
      socket.on('data', (chunk: Buffer) => {
        const result = client.#parser.push(chunk);
        for (const frame of result.frames) {
          if (!connected) {
            if (frame.command !== 'CONNECTED') {
              reject(
                new Error(`CONNECT refused: ${header(frame, 'message') ?? ''} ${frame.body.toString()}`),
              );
              socket.destroy();
              return;
            }
            connected = true;
            client.#parser.setVersion('1.2');
            socket.removeListener('error', reject);
            socket.on('error', (error) => client.#onError(error));
            resolve(client);
            continue;
          }
          client.#onFrame(frame);
        }
        if (result.error !== undefined) client.#onError(result.error);
      });
    });
  }

  onError(handler: (error: Error) => void): void {
    this.#onError = handler;
  }

  #onFrame(frame: StompFrame): void {
    if (frame.command === 'MESSAGE') {
      const handler = this.#subscriptions.get(header(frame, 'subscription') ?? '');
      handler?.(frame);
    } else if (frame.command === 'RECEIPT') {
      const id = header(frame, 'receipt-id') ?? '';
      const resolve = this.#receipts.get(id);
      this.#receipts.delete(id);
      resolve?.();
    } else if (frame.command === 'ERROR') {
      this.#onError(
        new Error(`ERROR from broker: ${header(frame, 'message') ?? ''} ${frame.body.toString()}`),
      );
    }
  }

  /** Frames written in one tick leave in one socket write. */
  #write(command: StompFrame['command'], headers: HeaderEntry[], body?: Buffer): void {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(encodeFrame({ command, headers, body: body ?? Buffer.alloc(0) }, '1.2'));
  }

  #corked = false;

  /** Sends; with `receipt`, resolves when the broker's RECEIPT arrives. */
  send(
    destination: string,
    body: Buffer,
    headers: HeaderEntry[],
    receipt: boolean,
  ): Promise<void> | undefined {
    const all: HeaderEntry[] = [['destination', destination], ...headers];
    if (!receipt) {
      this.#write('SEND', all, body);
      return undefined;
    }
    const id = `r${++this.#receiptSequence}`;
    all.push(['receipt', id]);
    const done = new Promise<void>((resolve) => this.#receipts.set(id, resolve));
    this.#write('SEND', all, body);
    return done;
  }

  /** Subscribes and resolves once the broker confirmed the subscription with a RECEIPT. */
  subscribe(
    destination: string,
    id: string,
    ack: 'auto' | 'client' | 'client-individual',
    prefetch: number,
    onMessage: (frame: StompFrame) => void,
  ): Promise<void> {
    this.#subscriptions.set(id, onMessage);
    const receipt = `s${++this.#receiptSequence}`;
    const done = new Promise<void>((resolve) => this.#receipts.set(receipt, resolve));
    this.#write('SUBSCRIBE', [
      ['destination', destination],
      ['id', id],
      ['ack', ack],
      ['prefetch-count', String(prefetch)],
      ['activemq.prefetchSize', String(prefetch)],
      ['receipt', receipt],
    ]);
    return done;
  }

  ack(frame: StompFrame): void {
    this.#write('ACK', [['id', header(frame, 'ack') ?? '']]);
  }

  async disconnect(): Promise<void> {
    const receipt = `d${++this.#receiptSequence}`;
    const done = new Promise<void>((resolve) => this.#receipts.set(receipt, resolve));
    this.#write('DISCONNECT', [['receipt', receipt]]);
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2000))]);
    this.#socket.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
