// Client helpers for the STOMP integration tests: @stomp/stompjs over WebSocket (ws) and
// over a raw TCP socket (a WebSocket-shaped wrapper, since stompjs only needs send/onmessage),
// and an inbox that turns MESSAGE callbacks into awaitable values.
import net from 'node:net';
import { Client, Versions, type IFrame, type IMessage, type StompHeaders } from '@stomp/stompjs';
import WebSocket from 'ws';

export class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];

  push = (item: T): void => {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.#items.push(item);
  };

  next(timeoutMs = 5_000): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error(`nothing arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (value: T): void => {
        clearTimeout(timer);
        resolve(value);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves true if nothing arrives within `ms`. */
  async quiet(ms = 200): Promise<boolean> {
    if (this.#items.length > 0) return false;
    try {
      await this.next(ms).then((item) => this.#items.unshift(item));
      return false;
    } catch {
      return true;
    }
  }

  get size(): number {
    return this.#items.length;
  }
}

/** A net.Socket dressed as the part of WebSocket that stompjs uses. */
class TcpWebSocket {
  binaryType = 'arraybuffer';
  readyState = 0;
  protocol = '';
  url: string;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly #socket: net.Socket;

  constructor(port: number) {
    this.url = `tcp://127.0.0.1:${port}`;
    this.#socket = net.connect(port, '127.0.0.1');
    this.#socket.on('connect', () => {
      this.readyState = 1;
      this.onopen?.({});
    });
    this.#socket.on('data', (data: Buffer) => {
      const copy = new Uint8Array(data.length);
      copy.set(data);
      this.onmessage?.({ data: copy.buffer });
    });
    this.#socket.on('error', (error) => this.onerror?.(error));
    this.#socket.on('close', () => {
      this.readyState = 3;
      this.onclose?.({ code: 1000, reason: '', wasClean: true });
    });
  }

  send(data: string | ArrayBuffer | Uint8Array): void {
    this.#socket.write(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
  }

  close(): void {
    this.readyState = 2;
    this.#socket.end();
  }
}

export interface Connected {
  readonly client: Client;
  readonly errors: Inbox<IFrame>;
  readonly connected: IFrame;
  close(): Promise<void>;
}

export type Transport = { readonly ws: string } | { readonly tcp: number };

export function connectStompJs(
  transport: Transport,
  headers: StompHeaders = {},
  versions: string[] = ['1.2', '1.1', '1.0'],
): Promise<Connected> {
  const errors = new Inbox<IFrame>();
  return new Promise((resolve, reject) => {
    const client = new Client({
      webSocketFactory: () =>
        'ws' in transport
          ? new WebSocket(transport.ws, new Versions(versions).protocolVersions())
          : new TcpWebSocket(transport.tcp),
      stompVersions: new Versions(versions),
      connectHeaders: { host: '/', ...headers },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      onConnect: (frame) =>
        resolve({
          client,
          errors,
          connected: frame,
          close: async () => {
            await client.deactivate();
          },
        }),
      onStompError: (frame) => {
        errors.push(frame);
        reject(new Error(`STOMP ERROR: ${frame.headers['message'] ?? ''} ${frame.body}`));
      },
      onWebSocketError: (event) => reject(new Error(`WebSocket error ${String(event)}`)),
    });
    client.activate();
  });
}

/** Publishes with a receipt and waits for it. */
export function publishWithReceipt(
  client: Client,
  destination: string,
  body: string | Uint8Array,
  headers: StompHeaders = {},
): Promise<IFrame> {
  const receipt = `r-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve) => {
    client.watchForReceipt(receipt, resolve);
    if (typeof body === 'string') client.publish({ destination, body, headers: { ...headers, receipt } });
    else client.publish({ destination, binaryBody: body, headers: { ...headers, receipt } });
  });
}

/** Subscribes and waits for the broker's receipt, so the subscription is in place. */
export function subscribeWithReceipt(
  client: Client,
  destination: string,
  headers: StompHeaders = {},
): Promise<{ inbox: Inbox<IMessage>; unsubscribe: (headers?: StompHeaders) => void }> {
  const receipt = `s-${Math.random().toString(36).slice(2)}`;
  const inbox = new Inbox<IMessage>();
  return new Promise((resolve) => {
    client.watchForReceipt(receipt, () =>
      resolve({ inbox, unsubscribe: (more) => subscription.unsubscribe(more) }),
    );
    const subscription = client.subscribe(destination, inbox.push, { ...headers, receipt });
  });
}
