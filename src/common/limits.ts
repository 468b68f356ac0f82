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
  /** A subject or filter, in UTF-8 bytes. */
  subjectBytesMax: 1024,
  /** Dot-separated tokens in a subject or filter. */
  subjectTokensMax: 32,
} as const;
