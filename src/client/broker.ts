// The embedded broker: `const broker = await Broker.start({ dataDir })`, then
// `broker.connect()` for an in-process client. No socket is involved; the protocol servers
// (`weir serve`) sit on the same BrokerCore.

import type { BrokerCoreOptions, BrokerMetrics } from '../core/broker.js';
import { BrokerCore } from '../core/broker.js';
import { ErrorCode, WeirError } from '../common/errors.js';
import { InProcessClient } from './in-process-client.js';
import type { Client } from './types.js';

export type BrokerOptions = BrokerCoreOptions;

export class Broker {
  /** The core, for protocol servers and tools that need more than the client API. */
  readonly core: BrokerCore;
  readonly #clients = new Set<InProcessClient>();
  #closed = false;

  /**
   * Keeps the process alive while the broker runs, as a listening socket would: a script that
   * awaits a subscription or a fetch must not exit under it. `close()` releases it.
   */
  readonly #keepAlive: NodeJS.Timeout;

  private constructor(core: BrokerCore) {
    this.core = core;
    this.#keepAlive = setInterval(() => undefined, 2_147_483_647);
  }

  /** Opens the data directory (everything stored there before is back) and starts the broker. */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    return new Broker(await BrokerCore.open(options));
  }

  /** A client in this process. */
  connect(): Client {
    if (this.#closed) throw new WeirError(ErrorCode.Closed, 'broker is closed');
    const client = new InProcessClient(this.core, (closed) => this.#clients.delete(closed));
    this.#clients.add(client);
    return client;
  }

  metrics(): BrokerMetrics {
    return this.core.metrics();
  }

  /** Stops intake, closes clients (unacked messages stay unacked for next time), drains, fsyncs and closes files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      for (const client of [...this.#clients]) await client.close();
      await this.core.close();
    } finally {
      clearInterval(this.#keepAlive);
    }
  }
}
