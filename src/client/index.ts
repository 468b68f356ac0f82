// weir/client: the TypeScript client over the native protocol, with the same Client API as
// the in-process client. Exports are listed by name.
export { connect, NetworkClient } from './network-client.js';
export { NetworkTransaction } from './network-transaction.js';
export type { ConnectOptions } from './options.js';
export type {
  Admin,
  AckOutcome,
  Body,
  Client,
  ClientTransaction,
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
  RequestOptions,
  StreamConfigInput,
  StreamInfo,
  SubscribeOptions,
  Subscription,
  TemporaryQueue,
  TopicSubscribeOptions,
  TransactionOptions,
} from './types.js';
export { WeirError, ErrorCode, isWeirError } from '../common/errors.js';
