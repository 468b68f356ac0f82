// Weir's public API. Exports are listed by name (STYLE.md): no `export *`.
export { WeirError, InvalidArgumentError, CorruptLogError, ErrorCode, isWeirError } from './common/errors.js';
export type { Clock, TimerHandle } from './common/clock.js';
export { SystemClock, ManualClock } from './common/clock.js';
export { Broker } from './client/broker.js';
export type { BrokerOptions } from './client/broker.js';
export type {
  Admin,
  Body,
  Client,
  ConsumerTarget,
  FetchOptions,
  MessageHandler,
  PublishOptions,
  QueueInfo,
  ReceivedMessage,
  SubscribeOptions,
  Subscription,
  TopicSubscribeOptions,
} from './client/types.js';
export { BrokerCore } from './core/broker.js';
export type { BrokerCoreOptions, BrokerMetrics } from './core/broker.js';
export { DeadLetterHeader } from './core/dead-letter.js';
export { keyHash, partitionForKey } from './core/partition-hash.js';
export type {
  AckOptions,
  AckOutcome,
  AckPolicy,
  Attachment,
  AttachOptions,
  ConsumerConfig,
  ConsumerConfigInput,
  ConsumerInfo,
  CoreSession,
  DeliverPolicy,
  Delivery,
  Discard,
  Dispatch,
  HeaderValue,
  Headers,
  LiveSubscribeOptions,
  LiveSubscription,
  Message,
  NackOptions,
  PartitionInfo,
  PublishAck,
  PublishInput,
  RedriveResult,
  RedriveSelection,
  Retention,
  SlowConsumerPolicy,
  StorageKind,
  StreamConfig,
  StreamConfigInput,
  StreamInfo,
} from './core/api.js';
export type { FsyncPolicy } from './storage/log.js';
