// guest/guest and anonymous clients from loopback only, end to end: the broker listens on
// this host's non-loopback address, and a client connecting through that address is seen as
// remote by the listener, so the adapter's authentication refuses it. (Acceptance from
// loopback is what every other test on 127.0.0.1 relies on.)

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/client/network-client.js';
import { ErrorCode, isWeirError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { type ServerHandle, startServer } from '../../src/server/server.js';

const externalAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address;

describe(
  'loopback-only identities',
  { skip: externalAddress === undefined ? 'this host has no non-loopback IPv4 address' : false },
  () => {
    let directory: string;
    let handle: ServerHandle;

    before(async () => {
      directory = await mkdtemp(path.join(os.tmpdir(), 'weir-loopback-'));
      handle = await startServer(
        {
          dataDir: path.join(directory, 'data'),
          host: externalAddress ?? '127.0.0.1',
          protocols: { native: { port: 0 }, mqtt: { enabled: false }, stomp: { enabled: false } },
          http: { enabled: false },
        },
        { logger: silentLogger },
      );
    });

    after(async () => {
      await handle.close();
      await rm(directory, { recursive: true, force: true });
    });

    async function tryConnect(
      host: string,
      credentials: { user?: string; password?: string },
    ): Promise<unknown> {
      try {
        const client = await connect({
          servers: `${host}:${handle.ports.native}`,
          reconnect: false,
          connectTimeoutMs: 5000,
          ...credentials,
        });
        await client.close();
        return undefined;
      } catch (error) {
        return error;
      }
    }

    test('guest/guest and anonymous are refused from a non-loopback address', async () => {
      const guest = await tryConnect(externalAddress ?? '', { user: 'guest', password: 'guest' });
      assert.ok(isWeirError(guest, ErrorCode.AuthenticationFailed), `refused: ${String(guest)}`);
      assert.match((guest as Error).message, /loopback only/);
      const anonymous = await tryConnect(externalAddress ?? '', {});
      assert.ok(isWeirError(anonymous, ErrorCode.AuthenticationFailed), `refused: ${String(anonymous)}`);
    });
  },
);
