// Every queue, buffer, window and count has a named maximum here (STYLE.md: put a limit on
// everything). Configuration may lower or raise them within these bounds; each limit is
// exercised by a test.

export const Limits = {
  /** One record (a message as stored) in a log batch. */
  recordBytesMax: 8 * 1024 * 1024,
  /** One record batch, header included. */
  batchBytesMax: 16 * 1024 * 1024,
  /** Records in one batch. */
  batchRecordsMax: 100_000,
  /** Default size at which a log segment rolls. */
  segmentBytesDefault: 128 * 1024 * 1024,
  /** Largest segment size a log may be configured with. */
  segmentBytesMax: 1024 * 1024 * 1024,
  /** Bytes of log between two entries of the sparse offset index. */
  indexIntervalBytes: 4096,
} as const;

/** Native protocol (src/protocols/native/, src/client/): bounds on every window and buffer. */
export const NativeLimits = {
  /** Largest frame either side accepts unless configured lower. */
  frameBytesDefault: 8 * 1024 * 1024,
  /** Credit one attachment may hold at the broker; a larger grant is capped. */
  creditMax: 10_000,
  /** Default prefetch of a push subscription. */
  creditDefault: 1_000,
  /** Push and live subscriptions on one connection. */
  subscriptionsMax: 10_000,
  /** Confirmed messages awaiting durability on one connection before the broker stops reading it. */
  publishesInFlightMax: 50_000,
  /** Deliveries a connection remembers for ack, nack and term; the oldest are forgotten past this. */
  trackedDeliveriesMax: 100_000,
  /** Messages a live subscription holds while its socket is not draining (default; the client may ask for fewer). */
  liveBufferMessagesDefault: 10_000,
  /** Heartbeat interval a client proposes by default; the broker caps it. */
  heartbeatMsDefault: 15_000,
  heartbeatMsMax: 120_000,
  /** Heartbeat intervals of silence after which a peer is considered gone. */
  heartbeatMissesMax: 3,
  /** Messages in one PUBLISH or DELIVER frame. */
  batchMessagesMax: 4_096,
  /** Bytes a client buffers for publishes while disconnected or under backpressure. */
  clientPendingBytesMax: 64 * 1024 * 1024,
  /** Longest reconnect backoff. */
  reconnectDelayMsMax: 30_000,
} as const;
