// The harness's side of a load generator process: forks the compiled generator, passes
// it its configuration and turns its IPC replies into promises.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  FromGenerator,
  GeneratorConfig,
  GeneratorProtocol,
  PublisherReport,
  SubscriberReport,
  ToGenerator,
} from './generator-messages.js';
import type { DeliveryPromise } from './sequence-checker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const readyTimeoutMs = 60_000;

export class GeneratorHandle {
  private readonly waiting: ((message: FromGenerator | Error) => void)[] = [];
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (raw) => this.deliver(raw as FromGenerator));
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.deliver(new Error(`${name} exited (${signal ?? `code ${code ?? '?'}`})`));
    });
  }

  /** Forks a generator process and waits until it is connected (and subscribed). */
  static async start(
    name: string,
    protocol: GeneratorProtocol,
    config: GeneratorConfig,
  ): Promise<GeneratorHandle> {
    const child = fork(path.join(here, `${protocol}-generator.js`), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const handle = new GeneratorHandle(name, child);
    try {
      await handle.request({ kind: 'configure', config }, 'ready', readyTimeoutMs);
    } catch (error) {
      handle.kill();
      throw error;
    }
    return handle;
  }

  async go(timeoutMs: number): Promise<PublisherReport> {
    const reply = await this.request({ kind: 'go' }, 'published', timeoutMs);
    if (reply.kind !== 'published') throw new Error('unreachable');
    return reply.report;
  }

  async expect(
    confirmedPerStream: readonly number[],
    promise: DeliveryPromise,
    idleTimeoutMs: number,
    timeoutMs: number,
  ): Promise<SubscriberReport> {
    const reply = await this.request(
      { kind: 'expect', confirmedPerStream, promise, idleTimeoutMs },
      'received',
      timeoutMs,
    );
    if (reply.kind !== 'received') throw new Error('unreachable');
    return reply.report;
  }

  /** Ends the generator process if it is still running (only this child, by its handle). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private deliver(message: FromGenerator | Error): void {
    const next = this.waiting.shift();
    next?.(message);
  }

  private request(
    message: ToGenerator,
    expected: FromGenerator['kind'],
    timeoutMs: number,
  ): Promise<FromGenerator> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no '${expected}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push((reply) => {
        clearTimeout(timer);
        if (reply instanceof Error) reject(reply);
        else if (reply.kind === 'failed') reject(new Error(`${this.name}: ${reply.message}`));
        else if (reply.kind !== expected)
          reject(new Error(`${this.name}: expected '${expected}', got '${reply.kind}'`));
        else resolve(reply);
      });
      this.child.send(message);
    });
  }
}
