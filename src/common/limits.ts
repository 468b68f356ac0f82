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

  // Server listeners (configuration `limits:`; each protocol adapter enforces them).
  /** Default open connections per protocol. */
  connectionsPerProtocolDefault: 10_000,
  /** Most open connections per protocol a configuration may allow. */
  connectionsPerProtocolMax: 1_000_000,
  /** Default largest frame (packet) a protocol adapter accepts. */
  frameBytesDefault: 8 * 1024 * 1024,
  /** Largest frame size a configuration may allow: one log batch. */
  frameBytesLimit: 16 * 1024 * 1024,
  /** Default largest message body. */
  messageBytesDefault: 4 * 1024 * 1024,
  /** Largest message body a configuration may allow, leaving room for headers in one record. */
  messageBytesLimit: 7 * 1024 * 1024,
  /** How long shutdown waits for protocol adapters to close their connections by default. */
  shutdownGraceMsDefault: 10_000,
  /** Longest shutdown grace a configuration may set. */
  shutdownGraceMsMax: 600_000,
} as const;
