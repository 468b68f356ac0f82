// Routes each decoded frame to its handler (handlers/, one file per frame kind). Frames
// only the broker sends are a protocol error from a client and close the connection.

import { unreachable } from '../../common/assert.js';
import { ErrorCode, WeirError } from '../../common/errors.js';
import type { Frame } from './codec/index.js';
import { handleAck } from './handlers/ack.js';
import { handleAdmin } from './handlers/admin.js';
import { handleAttach } from './handlers/attach.js';
import { handleCredit } from './handlers/credit.js';
import { handleDetach } from './handlers/detach.js';
import { handleFetch } from './handlers/fetch.js';
import { handleGoodbye } from './handlers/goodbye.js';
import { handleHello } from './handlers/hello.js';
import { handleNack } from './handlers/nack.js';
import { handlePing } from './handlers/ping.js';
import { handlePublish } from './handlers/publish.js';
import { handleRequest } from './handlers/request.js';
import { handleSubscribeLive } from './handlers/subscribe-live.js';
import { handleTerm } from './handlers/term.js';
import { handleTransaction } from './handlers/transaction.js';
import { handleUnsupported } from './handlers/unsupported.js';
import type { NativeSession } from './session.js';

export function dispatchFrame(session: NativeSession, frame: Frame): void {
  switch (frame.kind) {
    case 'hello':
      return handleHello(session, frame);
    case 'ping':
      return handlePing(session, frame);
    case 'pong':
      return;
    case 'goodbye':
      return handleGoodbye(session, frame);
    case 'error':
      // A client reports an error about something the broker sent: log it; a fatal one ends the connection.
      session.logger.warn('client reported an error', { code: frame.code, reason: frame.message });
      if (frame.fatal) void session.close();
      return;
    case 'publish':
      return handlePublish(session, frame);
    case 'attach':
      return handleAttach(session, frame);
    case 'detach':
      return handleDetach(session, frame);
    case 'credit':
      return handleCredit(session, frame);
    case 'subscribeLive':
      return handleSubscribeLive(session, frame);
    case 'fetch':
      return handleFetch(session, frame);
    case 'ack':
      return handleAck(session, frame);
    case 'nack':
      return handleNack(session, frame);
    case 'term':
      return handleTerm(session, frame);
    case 'admin':
      return handleAdmin(session, frame);
    case 'request':
      return handleRequest(session, frame);
    case 'transaction':
      return handleTransaction(session, frame);
    case 'unsupported':
      return handleUnsupported(session, frame);
    case 'welcome':
    case 'ok':
    case 'publishAck':
    case 'deliver':
    case 'subscriptionClosed':
    case 'liveDeliver':
    case 'fetchResult':
    case 'adminResult':
    case 'settleResult':
    case 'response':
      session.fail(new WeirError(ErrorCode.ProtocolError, `a client may not send ${frame.kind} frames`));
      return;
    default:
      unreachable(frame, 'frame kind');
  }
}
