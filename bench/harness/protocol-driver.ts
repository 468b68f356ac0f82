// The seam between the protocol-neutral publisher and subscriber loops and the wire
// format. A driver owns one socket; the loops own pacing, windows and bookkeeping.

export interface PublisherDriver {
  /** Connects and completes the protocol handshake. */
  connect(): Promise<void>;
  /** Bytes of one encoded message to stream `streamIndex`. */
  frameBytes(streamIndex: number): number;
  /**
   * Encodes message `index` (the publisher's running count) for `streamIndex` with its
   * `sequence` in that stream into `target` at `offset`, from the pre-encoded template.
   */
  encode(
    target: Buffer,
    offset: number,
    streamIndex: number,
    sequence: number,
    index: number,
    sentNs: number,
  ): void;
  /** Writes a batch of encoded messages; false when the socket buffer is full. */
  write(batch: Buffer): boolean;
  /** Called when the socket buffer has drained after `write` returned false. */
  onDrain(listener: () => void): void;
  /**
   * Called with the index of every message the broker confirmed, then with `undefined`
   * once per read, so the loop refills its window once per batch of confirms.
   */
  onConfirm(listener: (index: number | undefined) => void): void;
  /** Called when the connection fails or the broker reports an error. */
  onError(listener: (error: Error) => void): void;
  /** Whether this driver gets confirms (MQTT QoS 1, STOMP receipts). */
  readonly confirms: boolean;
  /** Most messages that may be in flight (e.g. the MQTT packet id space). */
  readonly inflightLimit: number;
  /** Disconnects politely after everything written has been flushed. */
  close(): Promise<void>;
}

export type PayloadListener = (source: Buffer, offset: number, length: number, redelivered: boolean) => void;

export interface SubscriberDriver {
  /**
   * Connects, subscribes to every destination (unless `resume` and the session kept the
   * subscription) and resolves once the broker has confirmed the subscriptions.
   */
  connect(resume: boolean): Promise<void>;
  /**
   * Called for each delivered message body, `source[offset .. offset + length)`, and
   * whether the broker marked it as a redelivery.
   */
  onPayload(listener: PayloadListener): void;
  onError(listener: (error: Error) => void): void;
  close(): Promise<void>;
}
