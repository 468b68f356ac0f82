// A bare native-protocol connection for tests that speak frames directly.

import net from 'node:net';
import type { Frame } from '../../src/protocols/native/codec/index.js';
import {
  BufferWriter,
  FrameDecoder,
  ProtocolVersion,
  encodeFrame,
} from '../../src/protocols/native/codec/index.js';

export class RawConnection {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #decoder = new FrameDecoder(64 * 1024 * 1024);
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.#decoder.push(chunk));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, hello = true): Promise<RawConnection> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new RawConnection(socket);
    if (hello) {
      connection.send({
        kind: 'hello',
        requestId: 0,
        versionMin: ProtocolVersion.min,
        versionMax: ProtocolVersion.max,
        clientName: 'raw',
        heartbeatMs: 0,
        frameBytesMax: 64 * 1024 * 1024,
      });
      await connection.next((frame) => frame.kind === 'welcome');
    }
    return connection;
  }

  send(frame: Frame): void {
    const writer = new BufferWriter(256);
    encodeFrame(writer, frame);
    this.socket.write(writer.take());
  }

  /** The first received frame that matches, waiting for it up to `timeoutMs`. */
  async next(match: (frame: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Frame;
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
