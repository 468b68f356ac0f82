// What an idle connection holds in the adapter's shared structures: one deadline entry while
// it waits for CONNECT or has a keep alive, none otherwise, and nothing once it is closed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { Packet } from '../../src/protocols/mqtt/codec/packets.js';
import type { Authenticator } from '../../src/core/auth.js';
import { RawClient, startTestBroker } from './helpers.js';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.fail(`timed out waiting until ${what}`);
}

function connect(clientId: string, keepalive: number): Packet {
  return { cmd: 'connect', clientId, protocolVersion: 4, clean: true, keepalive } as Packet;
}

test('deadlines: one entry per connection awaiting CONNECT or with a keep alive, none after close', async () => {
  const clock = new ManualClock(Date.now());
  const broker = await startTestBroker({ clock });
  try {
    const registry = broker.server.registry;
    const deadlines = registry.deadlines;
    const silent = await RawClient.connect(broker.port);
    await until(() => registry.connections.size === 1, 'the silent connection is accepted');
    assert.equal(deadlines.size, 1, 'the CONNECT timeout of a connection that has not sent CONNECT');

    const withoutKeepAlive = await RawClient.connect(broker.port);
    withoutKeepAlive.send(connect('no-keep-alive', 0));
    await withoutKeepAlive.next('connack');
    const first = await RawClient.connect(broker.port);
    first.send(connect('keep-alive-1', 10));
    await first.next('connack');
    const second = await RawClient.connect(broker.port);
    second.send(connect('keep-alive-2', 10));
    await second.next('connack');
    assert.equal(deadlines.size, 3, 'the silent connection and the two with a keep alive');

    // MQTT 3.1.4: no CONNECT in time closes the connection.
    clock.advance(registry.options.connectTimeoutMs + 100);
    await silent.closedPromise;
    await until(() => deadlines.size === 2, 'the silent connection leaves the deadlines');

    first.socket.destroy();
    await until(() => registry.connections.size === 2, 'the server sees the close');
    assert.equal(deadlines.size, 1, 'a closed connection is not held until its deadline');
    assert.equal(second.closed, false);
    assert.equal(withoutKeepAlive.closed, false);
    second.socket.destroy();
    withoutKeepAlive.socket.destroy();
    await until(() => registry.connections.size === 0, 'every connection is closed');
    assert.equal(deadlines.size, 0);
  } finally {
    await broker.close();
  }
});

test('the CONNECT timeout stops once CONNECT is read: a slow authenticator does not close the client', async () => {
  const clock = new ManualClock(Date.now());
  let letIn: (() => void) | undefined;
  let asked = false;
  const authenticator: Authenticator = {
    authenticate: async () => {
      asked = true;
      await new Promise<void>((resolve) => (letIn = resolve));
      return { name: 'slow', anonymous: false, protocol: 'mqtt' };
    },
  };
  const broker = await startTestBroker({ clock, authenticator });
  try {
    const registry = broker.server.registry;
    const client = await RawClient.connect(broker.port);
    client.send(connect('slow-auth', 0));
    await until(() => asked, 'the authenticator is asked');
    assert.equal(registry.deadlines.size, 0, 'no CONNECT timeout once CONNECT is read');
    clock.advance(registry.options.connectTimeoutMs + 100);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(client.closed, false, 'a client that sent CONNECT in time is not closed');
    letIn?.();
    const connack = (await client.next('connack')) as { returnCode?: number };
    assert.equal(connack.returnCode, 0);
    client.socket.destroy();
  } finally {
    letIn?.();
    await broker.close();
  }
});
