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
  /** Smallest segment size a log may be configured with. */
  segmentBytesMin: 1024,
  /** Bytes of log between two entries of the sparse offset index. */
  indexIntervalBytes: 4096,
  /** A subject or filter, in UTF-8 bytes. */
  subjectBytesMax: 1024,
  /** Dot-separated tokens in a subject or filter. */
  subjectTokensMax: 32,
  /** A message body. Body, headers and properties together stay below recordBytesMax. */
  messageBytesMax: 4 * 1024 * 1024,
  /** Headers on one message. */
  headersCountMax: 256,
  /** All header names and values of one message, in bytes (numbers count 8, booleans 1). */
  headersBytesMax: 64 * 1024,
  /** One header name, and each string property: id, key, correlation id, reply-to, content type. */
  messagePropertyBytesMax: 4096,
  /** Messages buffered for one live (non-durable) subscription, the most it may ask for. */
  liveBufferMessagesMax: 100_000,
  /** Message body bytes buffered for one live subscription. */
  liveBufferBytesMax: 64 * 1024 * 1024,
  /** Messages handed to one live subscription at a time before the others get theirs. */
  liveDeliveryBatchMessagesMax: 256,
  /** Messages delivered to live subscriptions in one event-loop turn, before I/O gets its. */
  liveDeliveryTurnMessagesMax: 16_384,
  /** Live subscriptions one session may hold. */
  liveSubscriptionsPerSessionMax: 10_000,
  /** Delayed messages held in memory for live subscriptions, across the broker. */
  liveDelayedMessagesMax: 100_000,
  /** A consumer's message selector, in characters. */
  selectorLengthMax: 64 * 1024,
  /** Nesting of one selector (parentheses, NOT, unary signs), so compiling cannot overflow the stack. */
  selectorDepthMax: 128,
  /** The longest delay a message may have (deliverAfterMs - now): 100 years. */
  delayMsMax: 36_525 * 86_400_000,
  /** Idempotent producers remembered per stream partition; the one idle longest is forgotten first. */
  producersPerPartitionMax: 10_000,
  /** Named idempotent producers (initProducer with a name) one broker remembers. */
  producersNamedMax: 100_000,
  /** Ids one stream's message-id dedup window may hold (its memory is fixed: see message-id-window.ts). */
  dedupWindowIdsMax: 1_000_000,
  /** Default capacity of a message-id dedup window. */
  dedupWindowIdsDefault: 100_000,
  /** Longest message-id dedup window. */
  dedupWindowMsMax: 7 * 86_400_000,
  /** Longest a request may wait for its reply. */
  requestTimeoutMsMax: 10 * 60_000,
  /** Requests one session may have waiting for replies. */
  requestsPendingPerSessionMax: 10_000,
  /** Temporary queues one session may own. */
  temporaryQueuesPerSessionMax: 1_000,
  /** Messages one transaction may publish. */
  transactionMessagesMax: 10_000,
  /** Deliveries one transaction may ack. */
  transactionAcksMax: 10_000,
  /** Encoded message bytes one transaction may hold (its commit is one log batch). */
  transactionBytesMax: 8 * 1024 * 1024,
  /** Transactions open at once across the broker. */
  transactionsOpenMax: 1_000,
  /** Message bytes all open transactions may hold together. */
  transactionsBufferedBytesMax: 256 * 1024 * 1024,
  /** A transaction aborts after this long without commit, unless it asks otherwise. */
  transactionTimeoutMsDefault: 60_000,
  /** Longest transaction timeout. */
  transactionTimeoutMsMax: 15 * 60_000,
  /** Segment size of a delay bucket log. */
  delaySegmentBytes: 4 * 1024 * 1024,
  /** Due delayed messages released to their stream in one batch. */
  delayReleaseBatchMax: 4_096,
  /** Smallest segment age limit a log may be configured with. */
  segmentAgeMsMin: 1,
  /** Largest `interval:<ms>` fsync period. */
  fsyncIntervalMsMax: 60_000,
  /** Appends one log may have waiting for their fsync before it refuses more (WEIR_OVERLOADED). */
  logAppendsWaitingMax: 100_000,
  /** Bytes one log read may ask for. */
  logReadBytesMax: 64 * 1024 * 1024,
  /**
   * Distinct keys one compaction run maps (key → latest offset). A log with more keys in its
   * sealed segments is compacted up to where the map filled, the rest on the next run.
   */
  compactionKeysMax: 1_000_000,
  /** Bytes one compaction read takes from a segment at a time. */
  compactionReadBytes: 1024 * 1024,
  /** How long a tombstone stays in a compacted log by default (Kafka's delete.retention.ms). */
  tombstoneRetentionMsDefault: 86_400_000,
  /** Share of a compacted log's sealed bytes not yet compacted that starts a run, by default. */
  compactionDirtyRatioDefault: 0.5,
  /** How often a compacted stream checks whether to compact, by default. */
  compactionIntervalMsDefault: 30_000,
  /**
   * Segment size of a compacted stream's logs (at most the broker's): compaction rewrites
   * sealed segments only, so smaller segments bound what the active one holds uncompacted.
   */
  compactedSegmentBytesDefault: 16 * 1024 * 1024,
  /** Least and most time between two compaction checks of a stream. */
  compactionIntervalMsMin: 10,
  compactionIntervalMsMax: 86_400_000,

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

  // Broker core: streams, consumers, acknowledgements.
  /** Streams one broker holds. */
  streamsMax: 10_000,
  /** Consumers on one stream. */
  consumersPerStreamMax: 10_000,
  /** Subject filters one stream captures. */
  streamSubjectsMax: 1_000,
  /** Partitions of one stream. */
  partitionsMax: 1_024,
  /** Length of a stream or consumer name. */
  nameLengthMax: 128,
  /** Unacked (in flight or awaiting redelivery) messages of one consumer: its maxAckPending ceiling. */
  consumerAckPendingMax: 1_000_000,
  /** Default maxAckPending of a consumer. */
  consumerAckPendingDefault: 10_000,
  /**
   * Unacked offsets below one consumer's highest ack (its holes). Holes cost memory; a consumer that
   * reaches this stops receiving new messages (redeliveries continue) until holes close.
   */
  consumerAckHolesMax: 1_000_000,
  /** Deliveries one fetch may ask for. */
  fetchBatchMax: 10_000,
  /** Longest a fetch may wait. */
  fetchWaitMsMax: 5 * 60_000,
  /** Entries of the backoff schedule. */
  backoffStepsMax: 100,
  /** Credit one attachment may hold. */
  attachCreditMax: 1_000_000,
  /** Decoded messages each partition keeps after append so tailing consumers skip a log read. */
  tailCacheMessagesMax: 16_384,
  /** Bytes the tail cache of one partition may hold (encoded size plus ~200 bytes per decoded message). */
  tailCacheBytesMax: 8 * 1024 * 1024,
  /**
   * Cached messages kept behind the furthest read of a partition. Kept longer, they outlive a
   * young-generation GC and every scavenge copies them (its pause grows with them); a reader
   * further behind reads the log.
   */
  tailCacheBehindReadMessagesMax: 1_024,
  /** Messages one consumer reads ahead of delivery, per partition. */
  consumerReadAheadMessagesMax: 2_048,
  /** Bytes one log read asks for when a consumer refills. */
  consumerReadBytesMax: 1024 * 1024,
  /** Messages waiting in one partition's append buffer before publishers see WEIR_OVERLOADED. */
  appendQueueMessagesMax: 200_000,
  /**
   * Batches one partition may have appended and not yet confirmed. Two let the next batch be
   * written while the fsync of the previous one runs, so it is ready for the fsync after it.
   */
  partitionAppendsInFlightMax: 2,
  /**
   * Messages queued on one partition that start an append at once instead of at the end of
   * the event-loop turn: a turn that reads megabytes of publishes keeps each message alive
   * only for its own batch, not for the whole turn (long-lived objects cost the GC more).
   */
  partitionFlushMessages: 2_048,
  /**
   * Offsets a filtered consumer keeps in its publish-time match list. Past it the consumer
   * falls back to a filtered read of the log until it catches up.
   */
  consumerMatchedOffsetsMax: 1_000_000,
  /** Consumer-state log bytes written since the last snapshot before a new snapshot compacts it. */
  consumerStateSnapshotBytes: 4 * 1024 * 1024,
  /** Segment size of a consumer-state log: small, so snapshots reclaim space soon. */
  consumerStateSegmentBytes: 1024 * 1024,
  /** Dead letters one redrive call may republish. */
  redriveMessagesMax: 100_000,
} as const;

/** Native protocol (src/protocols/native/, src/client/): bounds on every window and buffer. */
export const NativeLimits = {
  /** Largest frame either side accepts unless configured lower. */
  frameBytesDefault: 8 * 1024 * 1024,
  /** Credit one attachment may hold at the broker; a larger grant is capped. */
  creditMax: 10_000,
  /** Subjects whose stream and partition count a network client remembers for producer stamps. */
  producerRoutesMax: 10_000,
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
  /**
   * Messages in one confirmed PUBLISH frame the client sends. The broker answers a frame once
   * its last message is fsynced, so a burst cut into frames gets its first confirms back while
   * the broker still appends the rest, and the caller can refill meanwhile instead of running
   * stop-and-wait; the client also writes a frame as soon as it is full, not at the end of the
   * tick. Much smaller frames cost more than they save (per-frame work and one confirm each:
   * 256 measured slower than one frame per burst of 2,000; 1,024 faster than both).
   */
  confirmedBatchMessagesMax: 1_024,
  /** Bytes a client buffers for publishes while disconnected or under backpressure. */
  clientPendingBytesMax: 64 * 1024 * 1024,
  /** Longest reconnect backoff. */
  reconnectDelayMsMax: 30_000,
} as const;

/** STOMP (src/protocols/stomp): frame limits, per-connection state and timers. */
export const StompLimits = {
  /** Command line plus headers of one frame, escapes included. */
  headerBytesMax: 64 * 1024,
  /** Header entries in one frame. */
  headersMax: 256,
  /** Body of one frame; a message body is also bounded by `recordBytesMax`. */
  bodyBytesMax: 4 * 1024 * 1024,
  /** Subscriptions one connection may hold at once. */
  subscriptionsMax: 1024,
  /** Transactions one connection may have open at once. */
  transactionsMax: 64,
  /** Frames the adapter holds in one transaction (live-only SENDs, NACKs); the core bounds the rest. */
  transactionFramesMax: 10_000,
  /** Body bytes the adapter holds in one transaction. */
  transactionBytesMax: 16 * 1024 * 1024,
  /** Prefetch of a subscription with neither `prefetch-count` nor `activemq.prefetchSize`. */
  prefetchDefault: 1000,
  prefetchMax: 65_535,
  /** Receipted SENDs awaiting durability before the connection stops reading. */
  pendingConfirmsMax: 4096,
  /**
   * Messages the core buffers for one live (topic, temporary queue) subscription of a STOMP
   * client: a burst of one socket read can be thousands of frames.
   */
  liveBufferMessages: 10_000,
  /** Bytes queued on the socket before a live (topic) subscriber counts as slow. */
  writeBufferBytesMax: 8 * 1024 * 1024,
  /** Heart-beat interval the server offers and asks for; clients may only ask for slower. */
  heartBeatIntervalMs: 10_000,
  /** The shortest heart-beat interval the server agrees to send or expect. */
  heartBeatIntervalMinMs: 1_000,
  /** Time to wait for CONNECT after the transport opens. */
  connectTimeoutMs: 10_000,
} as const;

/**
 * MQTT (src/protocols/mqtt): defaults and bounds of the adapter's options
 * (`protocols.mqtt.options`, parsed by options.ts), and its fixed per-connection buffers.
 */
export const MqttLimits = {
  /** Largest packet: the protocol's own maximum (a 4-byte remaining length plus the fixed header). */
  packetBytesMax: 268_435_460,
  packetBytesMin: 64,
  /** Default largest packet accepted, and the Maximum Packet Size announced in CONNACK (5.0). */
  packetBytesDefault: 1024 * 1024,
  /** QoS 1/2 PUBLISH packets a client may have unacknowledged towards the broker (our Receive Maximum). */
  receiveMaximumDefault: 1024,
  /** Receive Maximum and in-flight window: a two-byte integer in MQTT 5.0. */
  receiveMaximumMax: 65_535,
  /** QoS 1/2 deliveries in flight to one client unless its Receive Maximum is lower. */
  inflightDefault: 1024,
  inflightMax: 65_535,
  /** Live deliveries queued for one connection while its in-flight window is full. */
  queuedMessagesDefault: 1000,
  queuedMessagesMax: 1_000_000,
  /** Subscriptions of one session. */
  subscriptionsDefault: 1000,
  subscriptionsMax: 1_000_000,
  /** Topic aliases a client may use towards the broker (Topic Alias Maximum in CONNACK). */
  topicAliasDefault: 1024,
  topicAliasMax: 65_535,
  /** Longest a disconnected persistent session is kept, by default: 7 days. */
  sessionExpiryDefaultS: 7 * 24 * 3600,
  /** Session expiry is a four-byte integer in MQTT 5.0. */
  sessionExpiryMaxS: 0xffff_ffff,
  /** Server Keep Alive: a two-byte integer in MQTT 5.0. */
  keepAliveMaxS: 65_535,
  /** Topics with a retained message. */
  retainedMessagesDefault: 100_000,
  retainedMessagesMax: 10_000_000,
  /** Bytes the streams queueing messages for persistent sessions keep; the oldest go first. */
  queueBytesDefault: 1024 * 1024 * 1024,
  queueBytesMin: 1024 * 1024,
  /** Age past which a message queued for a persistent session is dropped. */
  queueAgeDefaultMs: 7 * 24 * 3600 * 1000,
  queueAgeMinMs: 1000,
  /** `$SYS/` statistics interval. */
  sysIntervalDefaultMs: 10_000,
  sysIntervalMaxMs: 3_600_000,
  /** Time a connection may take to send CONNECT. */
  connectTimeoutDefaultMs: 10_000,
  connectTimeoutMinMs: 100,
  connectTimeoutMaxMs: 600_000,
  /** A read at least this large makes the connection yield to the event loop before the next. */
  readYieldBytes: 16 * 1024,
  /** Bytes of unsent output past which QoS 0 deliveries to that client are dropped, not buffered. */
  writeBufferBytesMax: 8 * 1024 * 1024,
  /**
   * Messages the core buffers for one live subscription between delivery turns: enough for
   * what a turn of reads from many publishers brings (a 64 KiB read is ~800 small PUBLISH
   * packets), bounded in bytes by the core (Limits.liveBufferBytesMax).
   */
  liveBufferMessages: 16_384,
  /**
   * Records the oldest open exchange of `mqtt-exchanges` may lag the log's tail before it is
   * written again at the tail, so that one long-open exchange does not keep every segment
   * after it (exchange-log.ts).
   */
  exchangeLogCompactRecords: 100_000,
  /**
   * Inbound QoS 2 messages whose holds commit in one core transaction (exchange-log.ts): one
   * commit serves the PUBLISH packets that arrived while earlier ones were written, up to this.
   */
  inboundHoldBatchMax: 1_000,
  /** Message bytes in one such transaction; kept below the core's Limits.transactionBytesMax. */
  inboundHoldBatchBytesMax: 4 * 1024 * 1024,
  /** Such transactions committing at once (their fsyncs overlap); later holds wait for a turn. */
  inboundHoldCommitsMax: 2,
} as const;
