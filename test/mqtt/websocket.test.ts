// MQTT over WebSocket: the adapter gets a plain Duplex whatever the transport; here a `ws`
// server on `/mqtt` (subprotocol `mqtt`) wraps each WebSocket with createWebSocketStream and
// hands it over, as the server's HTTP listener does.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { startTestBroker } from './helpers.js';

test('MQTT 3.1.1 and 5.0 clients over WebSocket /mqtt', async () => {
  const broker = await startTestBroker();
  const httpServer = http.createServer();
  const webSockets = new WebSocketServer({
    server: httpServer,
    path: '/mqtt',
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  webSockets.on('connection', (socket, request) => {
    broker.server.handleConnection(createWebSocketStream(socket), {
      remoteAddress: request.socket.remoteAddress ?? '',
      remotePort: request.socket.remotePort ?? 0,
      transport: 'websocket',
      loopback: true,
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mqtt`;
  try {
    const subscriber = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
    const received: string[] = [];
    subscriber.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    await subscriber.subscribeAsync('ws/+', { qos: 1 });
    const publisher = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    await publisher.publishAsync('ws/a', 'over websocket', { qos: 1 });
    const deadline = Date.now() + 2000;
    while (received.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(received, ['ws/a=over websocket']);
    await publisher.endAsync();
    await subscriber.endAsync();
  } finally {
    for (const client of webSockets.clients) client.terminate();
    webSockets.close();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    await broker.close();
  }
});
