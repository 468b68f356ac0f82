// The protocol registry: which adapters this build has, how each is reached. Adding a
// protocol is one line here (plus its import). A protocol whose name has a section in the
// configuration (options.ts `protocolNames`) gets a TCP listener on its port; one with a
// `websocket` route is also reachable through the HTTP listener's WebSocket upgrade.

import type { ProtocolServerFactory } from '../core/protocol-server.js';
import { createMqttServer } from '../protocols/mqtt/server.js';
import { createNativeServer } from '../protocols/native/server.js';
import { createStompServer } from '../protocols/stomp/index.js';

export interface WebSocketRoute {
  /** The HTTP path of the upgrade request, e.g. `/mqtt`. */
  readonly path: string;
  /**
   * Subprotocols (Sec-WebSocket-Protocol) the adapter speaks, most preferred first. A
   * client that offers some, none of them these, is refused; one that offers none is
   * accepted.
   */
  readonly subprotocols: readonly string[];
}

export interface ProtocolDescriptor {
  readonly name: string;
  readonly create: ProtocolServerFactory;
  readonly websocket?: WebSocketRoute;
}

/** Every adapter in this build. */
export const builtInProtocols: readonly ProtocolDescriptor[] = [
  { name: 'native', create: createNativeServer },
  { name: 'mqtt', create: createMqttServer, websocket: { path: '/mqtt', subprotocols: ['mqtt'] } },
  {
    name: 'stomp',
    create: createStompServer,
    websocket: { path: '/stomp', subprotocols: ['v12.stomp', 'v11.stomp', 'v10.stomp'] },
  },
];
