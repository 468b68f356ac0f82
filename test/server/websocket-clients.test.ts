// The real adapters behind the server's listeners, reached by the client libraries users
// run: mqtt.js over ws://…/mqtt and TCP, @stomp/stompjs over ws://…/stomp, all
// authenticating through the server's users file (and refused with a wrong password).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { silentLogger } from '../../src/common/logger.js';
import { hashPassword } from '../../src/core/auth.js';
import { type ServerHandle, startServer } from '../../src/server/server.js';
import { connectStompJs, publishWithReceipt, subscribeWithReceipt } from '../stomp/clients.js';

describe('real clients through the server', () => {
  let directory: string;
  let handle: ServerHandle;

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'weir-ws-clients-'));
    const usersFile = path.join(directory, 'users');
    await writeFile(usersFile, `alice:${await hashPassword('wonderland')}\n`);
    handle = await startServer(
      {
        dataDir: path.join(directory, 'data'),
        protocols: { native: { enabled: false }, mqtt: { port: 0 }, stomp: { port: 0 } },
        http: { port: 0 },
        auth: { usersFile, anonymous: 'never' },
      },
      { logger: silentLogger },
    );
  });

  after(async () => {
    await handle.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function mqttRoundTrip(url: string, topic: string): Promise<string> {
    const client = await mqtt.connectAsync(url, {
      username: 'alice',
      password: 'wonderland',
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    try {
      await client.subscribeAsync(topic, { qos: 1 });
      const received = new Promise<[string, Buffer]>((resolve) =>
        client.once('message', (topicName, payload) => resolve([topicName, payload])),
      );
      await client.publishAsync(topic, 'over the wire', { qos: 1 });
      const [, payload] = await received;
      return payload.toString();
    } finally {
      await client.endAsync();
    }
  }

  test('mqtt.js over WebSocket /mqtt and over TCP', async () => {
    assert.equal(
      await mqttRoundTrip(`ws://127.0.0.1:${handle.ports.http}/mqtt`, 'sensors/ws'),
      'over the wire',
    );
    assert.equal(
      await mqttRoundTrip(`mqtt://127.0.0.1:${handle.ports.mqtt}`, 'sensors/tcp'),
      'over the wire',
    );
  });

  test('mqtt.js with a wrong password, or anonymous when anonymous is off, is refused', async () => {
    await assert.rejects(
      mqtt.connectAsync(`ws://127.0.0.1:${handle.ports.http}/mqtt`, {
        username: 'alice',
        password: 'looking-glass',
        reconnectPeriod: 0,
        protocolVersion: 4,
      }),
      /Bad username or password|Not authorized/i,
    );
    await assert.rejects(
      mqtt.connectAsync(`mqtt://127.0.0.1:${handle.ports.mqtt}`, { reconnectPeriod: 0, protocolVersion: 4 }),
      /Bad username or password|Not authorized/i,
    );
  });

  test('stompjs over WebSocket /stomp', async () => {
    const stomp = await connectStompJs(
      { ws: `ws://127.0.0.1:${handle.ports.http}/stomp` },
      { login: 'alice', passcode: 'wonderland' },
    );
    try {
      assert.equal(stomp.connected.headers['version'], '1.2');
      const { inbox } = await subscribeWithReceipt(stomp.client, '/topic/news');
      await publishWithReceipt(stomp.client, '/topic/news', 'extra');
      assert.equal((await inbox.next()).body, 'extra');
    } finally {
      await stomp.close();
    }
    await assert.rejects(
      connectStompJs(
        { ws: `ws://127.0.0.1:${handle.ports.http}/stomp` },
        { login: 'alice', passcode: 'nope' },
      ),
      /STOMP ERROR/,
    );
  });
});
