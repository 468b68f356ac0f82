// Opening a TCP connection for a load generator: Nagle off, since frames are batched by
// the generator itself.
import net from 'node:net';

export function openSocket(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Ends the socket once written data is flushed; resolves when it is closed. */
export function endSocket(socket: net.Socket, lastBytes?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    if (lastBytes === undefined) socket.end();
    else socket.end(lastBytes);
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}
