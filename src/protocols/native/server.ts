// The native protocol's plug-in for the server (src/core/protocol-server.ts): one
// NativeSession per accepted connection, a connection limit, and an orderly close.

import { ErrorCode, WeirError } from '../../common/errors.js';
import type {
  ConnectionInfo,
  ProtocolContext,
  ProtocolServer,
  ProtocolServerFactory,
} from '../../core/protocol-server.js';
import { NativeSession } from './session.js';

const knownOptions = new Set<string>();

export const createNativeServer: ProtocolServerFactory = (context: ProtocolContext): ProtocolServer => {
  for (const name of Object.keys(context.options)) {
    if (!knownOptions.has(name)) {
      throw new WeirError(
        ErrorCode.InvalidArgument,
        `protocols.native.options.${name} is not a native protocol option`,
      );
    }
  }
  const sessions = new Set<NativeSession>();
  let closing = false;
  let connectionNumber = 0;
  return {
    name: 'native',
    handleConnection(stream, info: ConnectionInfo): void {
      const logger = context.logger.child({ connection: ++connectionNumber, remote: info.remoteAddress });
      const session = new NativeSession(context, stream, info, logger, {
        onClosed: (closed) => sessions.delete(closed),
      });
      if (closing) {
        session.fail(new WeirError(ErrorCode.Closed, 'the broker is shutting down'));
        return;
      }
      if (sessions.size >= context.limits.connectionsMax) {
        session.fail(
          new WeirError(
            ErrorCode.LimitExceeded,
            `the broker accepts at most ${context.limits.connectionsMax} native connections`,
          ),
        );
        return;
      }
      sessions.add(session);
    },
    async close(): Promise<void> {
      closing = true;
      await Promise.all([...sessions].map((session) => session.goodbye('the broker is shutting down')));
    },
  };
};
