// Entry point of the Aedes peer: an MQTT broker in Node.js, run in a process of its own
// like every other broker. Usage: node aedes-server.js <port>
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: aedes-server <port>');
  process.exit(2);
}
const broker = await Aedes.createBroker();
// No Nagle delay, as Weir's listener: replies go out when written.
const server = net.createServer({ noDelay: true }, broker.handle);
server.listen(port, '127.0.0.1', () => console.error(`aedes listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  server.close();
  broker.close(() => process.exit(0));
});
