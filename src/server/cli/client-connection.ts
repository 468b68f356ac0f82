// How the client commands reach the broker: connection flags to connect options, a client
// that is always closed, and a flush of fire-and-forget publishes before closing.

import { connect, type NetworkClient } from '../../client/network-client.js';
import type { ConnectOptions } from '../../client/options.js';

export interface ConnectionFlags {
  readonly server: string;
  readonly user?: string;
  readonly password?: string;
}

export function connectOptions(flags: ConnectionFlags, name: string): ConnectOptions {
  return {
    servers: flags.server,
    ...(flags.user === undefined ? {} : { user: flags.user }),
    ...(flags.password === undefined ? {} : { password: flags.password }),
    name,
    reconnect: false,
  };
}

/** Connects, runs `work`, and always closes the connection. */
export async function withClient<T>(
  flags: ConnectionFlags,
  work: (client: NetworkClient) => Promise<T>,
): Promise<T> {
  const client = await connect(connectOptions(flags, 'weir-cli'));
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/**
 * Waits until the client has written every fire-and-forget publish to its socket (the
 * client flushes on the next turn of the event loop), so close() then ends the connection
 * after them without waiting for a drain it would not be told about.
 */
export async function handedToSocket(client: NetworkClient): Promise<void> {
  while (client.pendingBytes > 0 && client.connected) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
