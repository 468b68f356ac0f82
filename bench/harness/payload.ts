// The body every load generator sends. A fixed header lets the receiving side check
// correctness and measure latency without parsing anything else:
//
//   offset  size  field
//   0       4     magic 0x57455231 ('WER1'), so a stray message is told apart from ours
//   4       4     stream index (which topic or queue of the workload it was sent to)
//   8       4     sequence number within that stream, from 0
//   12      4     high 32 bits of the send time (process.hrtime.bigint(), nanoseconds)
//   16      4     low 32 bits of the send time
//   20      ...   filler up to the message size
//
// hrtime is CLOCK_MONOTONIC, shared by every process on the machine, so a subscriber in
// another process may subtract it from its own clock.

export const payloadMagic = 0x57455231;
export const payloadHeaderBytes = 20;

export function createPayload(messageBytes: number, streamIndex: number): Buffer {
  if (messageBytes < payloadHeaderBytes) {
    throw new RangeError(`a message needs at least ${payloadHeaderBytes} bytes, got ${messageBytes}`);
  }
  const payload = Buffer.alloc(messageBytes, 0x2e);
  payload.writeUInt32BE(payloadMagic, 0);
  payload.writeUInt32BE(streamIndex, 4);
  payload.writeUInt32BE(0, 8);
  payload.writeUInt32BE(0, 12);
  payload.writeUInt32BE(0, 16);
  return payload;
}

/** Writes the sequence number and send time into a payload that sits at `offset` of `frame`. */
export function stampPayload(frame: Buffer, offset: number, sequence: number, sentNs: number): void {
  frame.writeUInt32BE(sequence >>> 0, offset + 8);
  frame.writeUInt32BE(Math.floor(sentNs / 4294967296) >>> 0, offset + 12);
  frame.writeUInt32BE((sentNs % 4294967296) >>> 0, offset + 16);
}

export interface PayloadStamp {
  readonly streamIndex: number;
  readonly sequence: number;
  readonly sentNs: number;
}

/** Reads the stamp of a payload at `offset`, or undefined when the bytes are not ours. */
export function readPayloadStamp(source: Buffer, offset: number, length: number): PayloadStamp | undefined {
  if (length < payloadHeaderBytes || source.readUInt32BE(offset) !== payloadMagic) return undefined;
  return {
    streamIndex: source.readUInt32BE(offset + 4),
    sequence: source.readUInt32BE(offset + 8),
    sentNs: source.readUInt32BE(offset + 12) * 4294967296 + source.readUInt32BE(offset + 16),
  };
}

export function nowNs(): number {
  return Number(process.hrtime.bigint());
}
