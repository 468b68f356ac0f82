// What a RECEIPT promises, under kill -9: every SEND whose RECEIPT the client saw is there
// after the broker process is killed and restarted on the same data directory. (A killed
// process leaves the page cache behind, so this checks that the RECEIPT follows the write;
// that it also follows the fsync is the storage's group-commit contract, tested there.)
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StompParser, header, type StompFrame } from '../../src/protocols/stomp/codec/index.js';

const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'server.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [serverScript, dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return child;
}

function connect(port: number, onFrame: (frame: StompFrame) => void): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    const parser = new StompParser();
    parser.setVersion('1.2');
    socket.on('data', (chunk: Buffer) => {
      for (const frame of parser.push(chunk).frames) onFrame(frame);
    });
    socket.on('error', () => undefined);
  });
}

test('receipted SENDs survive kill -9', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'weir-stomp-crash-'));
  const port = await freePort();
  let child = await startServer(dataDir, port);
  try {
    const receipted = new Set<string>();
    const killAfter = 300;
    const killed = new Promise<void>((resolve) => {
      void connect(port, (frame) => {
        if (frame.command !== 'RECEIPT') return;
        receipted.add(header(frame, 'receipt-id') ?? '');
        if (receipted.size === killAfter) {
          child.kill('SIGKILL');
          resolve();
        }
      }).then((socket) => {
        let frames = 'CONNECT\naccept-version:1.2\nhost:/\n\n\0';
        for (let index = 0; index < 2000; index++) {
          frames += `SEND\ndestination:/queue/crash\nreceipt:m${index}\npersistent:true\n\nmessage m${index}\0`;
        }
        socket.write(frames);
      });
    });
    await killed;
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(receipted.size >= killAfter);

    child = await startServer(dataDir, port);
    const stored = new Set<string>();
    let last = Date.now();
    const socket = await connect(port, (frame) => {
      if (frame.command !== 'MESSAGE') return;
      stored.add(frame.body.toString().slice('message '.length));
      last = Date.now();
    });
    socket.write(
      'CONNECT\naccept-version:1.2\nhost:/\n\n\0SUBSCRIBE\nid:0\ndestination:/queue/crash\nprefetch-count:0\n\n\0',
    );
    // Read until the queue has been quiet for a while.
    while (Date.now() - last < 500 || stored.size === 0)
      await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    for (const id of receipted) assert.ok(stored.has(id), `receipted ${id} was lost`);
  } finally {
    child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
