// Two connected Duplex ends with no socket between them: what one end writes, the other
// reads. The in-process transport of ProtocolServer.handleConnection (tests, embedding).
// Backpressure holds: a write's callback waits until the other end's reader wants more.

import { Duplex } from 'node:stream';

class PairEnd extends Duplex {
  peer: PairEnd | undefined;
  #pendingWrite: (() => void) | undefined;

  override _read(): void {
    const peer = this.peer;
    if (peer !== undefined) peer.#takePending()?.();
  }

  #takePending(): (() => void) | undefined {
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    return pending;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer === undefined || peer.destroyed) {
      callback(new Error('the other end of the in-process connection is closed'));
      return;
    }
    if (peer.push(chunk)) callback();
    else this.#pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = undefined;
    const pending = this.#takePending();
    if (peer !== undefined) {
      peer.peer = undefined;
      // The far end sees an orderly end of stream, as a socket would after the peer closed.
      if (!peer.destroyed) {
        peer.push(null);
        peer.end();
      }
    }
    pending?.();
    callback(error);
  }
}

export function createDuplexPair(): [Duplex, Duplex] {
  const left = new PairEnd();
  const right = new PairEnd();
  left.peer = right;
  right.peer = left;
  return [left, right];
}
