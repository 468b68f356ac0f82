// weir/client: the TypeScript client over the native protocol, with the same Client API as
// the in-process client. Exports are listed by name.
export { connect, NetworkClient } from './network-client.js';
export type { RequestOptions } from './network-client.js';
export { NetworkTransaction } from './network-transaction.js';
export type { ConnectOptions } from './options.js';
export type {
  Admin,
  AckOutcome,
  Body,
  Client,
  ConsumerConfigInput,
  ConsumerInfo,
  ConsumerTarget,
  FetchOptions,
  MessageHandler,
  PublishAck,
  PublishOptions,
  QueueInfo,
  ReceivedMessage,
  RedriveResult,
  RedriveSelection,
  StreamConfigInput,
  StreamInfo,
  SubscribeOptions,
  Subscription,
  TopicSubscribeOptions,
} from './types.js';
export { WeirError, ErrorCode, isWeirError } from '../common/errors.js';
