// Entry point of the bare-socket floor: a Node.js process that accepts TCP connections,
// answers each CONNECT with a CONNACK (so MQTT load generators can open connections to it)
// and otherwise only holds the socket. Not a broker: what an idle connection costs any
// Node.js server, the floor under Weir's and Aedes' figures. Usage: node bare-socket-server.js <port>
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: bare-socket-server <port>');
  process.exit(2);
}
// CONNACK, MQTT 3.1.1: session present 0, return code 0.
const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);
// One listener function for all sockets, as lean as a Node.js server can hold a connection.
function onData(this: net.Socket): void {
  this.write(connack);
}
function onError(): void {
  // a reset connection is simply gone
}
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', onData);
  socket.on('error', onError);
});
server.listen(port, '127.0.0.1', () => console.error(`bare socket server listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
