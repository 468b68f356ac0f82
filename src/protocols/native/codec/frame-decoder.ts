// The incremental frame decoder: feed it socket chunks as they arrive, get whole frames
// back. A frame may span any number of chunks and a chunk may hold any number of frames.
// Payload byte strings (bodies, header bytes) are slices of the received chunk when a
// frame lies within one chunk, so a batch of deliveries is decoded without copying bodies.
//
// A length prefix above `frameBytesMax` throws WEIR_FRAME_TOO_LARGE before any of the
// frame is buffered, so a peer cannot make us hold more than one frame's worth of bytes.

import { ErrorCode, WeirError } from '../../../common/errors.js';
import { protocolError } from './buffer-reader.js';
import { decodeFrame } from './decode.js';
import type { Frame } from './frames.js';
import { frameHeaderBytes } from './frames.js';

export class FrameDecoder {
  readonly #frameBytesMax: number;
  /** Bytes received but not yet decoded, oldest first. */
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #failed: WeirError | undefined;

  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Decodes every whole frame now available. Throws WeirError; after a throw, every call throws the same error. */
  push(chunk: Buffer): Frame[] {
    if (this.#failed !== undefined) throw this.#failed;
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#failed =
        error instanceof WeirError
          ? error
          : new WeirError(ErrorCode.ProtocolError, String(error), { cause: error });
      this.#chunks = [];
      this.#bufferedBytes = 0;
      throw this.#failed;
    }
  }

  #push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let buffer: Buffer;
    if (this.#chunks.length === 0) {
      buffer = chunk;
    } else {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.length;
      const needed = this.#neededBytes();
      if (needed === undefined || this.#bufferedBytes < needed) return frames;
      buffer = Buffer.concat(this.#chunks, this.#bufferedBytes);
      this.#chunks = [];
      this.#bufferedBytes = 0;
    }
    let position = 0;
    while (buffer.length - position >= 4) {
      const length = buffer.readUInt32BE(position);
      this.#checkLength(length);
      if (buffer.length - position - 4 < length) break;
      const type = buffer[position + 4] as number;
      const flags = buffer[position + 5] as number;
      const requestId = buffer.readUInt32BE(position + 6);
      frames.push(
        decodeFrame(type, flags, requestId, buffer, position + frameHeaderBytes, position + 4 + length),
      );
      position += 4 + length;
    }
    if (position < buffer.length) {
      const rest = buffer.subarray(position);
      this.#chunks.push(rest);
      this.#bufferedBytes = rest.length;
    }
    return frames;
  }

  #checkLength(length: number): void {
    if (length + 4 > this.#frameBytesMax) {
      throw new WeirError(
        ErrorCode.FrameTooLarge,
        `frame of ${length + 4} bytes is larger than the limit of ${this.#frameBytesMax} bytes`,
      );
    }
    if (length < frameHeaderBytes - 4)
      throw protocolError(`frame length ${length} is shorter than a frame header`);
  }

  /** Bytes needed for the first buffered frame, once its length prefix has arrived. */
  #neededBytes(): number | undefined {
    if (this.#bufferedBytes < 4) return undefined;
    const head = this.#chunks[0] as Buffer;
    const prefix = head.length >= 4 ? head : Buffer.concat(this.#chunks, 4);
    const length = prefix.readUInt32BE(0);
    this.#checkLength(length);
    return 4 + length;
  }
}
