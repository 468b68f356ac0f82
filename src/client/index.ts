// weir/client: the TypeScript client over the native protocol. Exports are listed by name.
export { connect, NetworkClient } from './network-client.js';
export type { ConnectOptions } from './options.js';
export { ReceivedMessage } from './network-message.js';
export { Subscription } from './network-subscription.js';
export type { MessageHandler } from './network-subscription.js';
export type {
  AdminDocument,
  Body,
  ConsumeOptions,
  ConsumerAdmin,
  DeadLetterAdmin,
  FetchOptions,
  PublishAck,
  PublishOptions,
  RequestOptions,
  StreamAdmin,
  SubscribeOptions,
} from './network-types.js';
export { WeirError, ErrorCode, isWeirError } from '../common/errors.js';
