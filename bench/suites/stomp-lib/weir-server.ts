// Weir for the STOMP benchmark, in a process of its own: a BrokerCore on files in the given
// directory (default fsync policy: always, group commit) and the STOMP adapter on the given
// loopback port. `node weir-server.js <dataDir> <port>`; SIGTERM stops it cleanly.
import net from 'node:net';
import { SystemClock } from '../../../src/common/clock.js';
import { silentLogger } from '../../../src/common/logger.js';
import { UsersAuthenticator } from '../../../src/core/auth.js';
import { BrokerCore } from '../../../src/core/broker.js';
import { createStompServer } from '../../../src/protocols/stomp/index.js';

const [dataDir, portText] = process.argv.slice(2);
if (dataDir === undefined || portText === undefined) {
  console.error('usage: weir-server.js <dataDir> <port>');
  process.exit(2);
}
const clock = new SystemClock();
const core = await BrokerCore.open({ dataDir, clock });
const stomp = createStompServer({
  core,
  authenticator: new UsersAuthenticator({ users: [] }),
  logger: silentLogger,
  clock,
  limits: { connectionsMax: 10_000, frameBytesMax: 8 * 1024 * 1024, messageBytesMax: 4 * 1024 * 1024 },
  options: {},
});
const listener = net.createServer((socket) => {
  socket.setNoDelay(true);
  stomp.handleConnection(socket, {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    transport: 'tcp',
    loopback: true,
  });
});
listener.listen(Number(portText), '127.0.0.1', () => console.log(`weir stomp listening on ${portText}`));
process.on('SIGTERM', () => {
  listener.close();
  void stomp
    .close()
    .then(() => core.close())
    .then(() => process.exit(0));
});
