// The read-only views of streams and consumers that administration returns.

import type { ConsumerInfo, StreamInfo } from './api.js';
import type { Consumer } from './consumer.js';
import type { Stream } from './stream.js';

export function streamInfo(stream: Stream): StreamInfo {
  return {
    config: stream.config,
    messages: stream.messageCount(),
    bytes: stream.sizeBytes(),
    consumers: stream.consumers.size,
    partitions: stream.partitions.map((partition) => ({
      partition: partition.index,
      firstOffset: partition.firstOffset,
      nextOffset: partition.nextOffset,
      messages: partition.messageCount,
      bytes: partition.log.sizeBytes,
      segments: partition.log.segmentCount,
    })),
    published: stream.counters.published,
    rejectedFull: stream.counters.rejectedFull,
    consumerStateSnapshots: stream.stateLog.snapshots,
    delayed: stream.delayed?.pendingCount ?? 0,
    duplicates: stream.dedup?.duplicates ?? 0,
    compactions: stream.counters.compactions,
  };
}

export function consumerInfo(stream: Stream, consumer: Consumer): ConsumerInfo {
  let pending = 0;
  let scanSkipped = 0;
  for (const partition of consumer.partitions) {
    const source = stream.partitions[partition.index];
    const end = source?.nextOffset ?? partition.cursor;
    pending += Math.max(0, end - partition.cursor) + partition.readAheadLength;
    scanSkipped += partition.scanSkipped;
  }
  return {
    stream: stream.name,
    config: consumer.config,
    ackPending: consumer.unacked,
    pending,
    ackFloors: consumer.partitions.map((partition) => partition.tracker.floor),
    attached: consumer.receivers.push.length,
    paused: consumer.paused,
    memoryBytes: consumer.memoryBytes(),
    ...consumer.metrics,
    scanSkipped,
  };
}
