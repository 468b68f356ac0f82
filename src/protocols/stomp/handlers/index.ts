// One handler per client frame kind (STOMP 1.2: "Client Frames"). A handler either finishes
// synchronously or returns a promise that the connection awaits before the next frame.
import type { ClientCommand, StompFrame } from '../codec/index.js';
import type { StompConnection } from '../session.js';
import { handleAbort } from './abort.js';
import { handleAck } from './ack.js';
import { handleBegin } from './begin.js';
import { handleCommit } from './commit.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handleNack } from './nack.js';
import { handleSend } from './send.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

export type Handler = (connection: StompConnection, frame: StompFrame) => void | Promise<void>;

export const handlers: Readonly<Record<ClientCommand, Handler>> = {
  CONNECT: handleConnect,
  STOMP: handleConnect,
  SEND: handleSend,
  SUBSCRIBE: handleSubscribe,
  UNSUBSCRIBE: handleUnsubscribe,
  ACK: handleAck,
  NACK: handleNack,
  BEGIN: handleBegin,
  COMMIT: handleCommit,
  ABORT: handleAbort,
  DISCONNECT: handleDisconnect,
};
