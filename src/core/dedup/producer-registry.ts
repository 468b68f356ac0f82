// Producer identities for idempotent publishing. `initProducer()` hands out a random 62-bit
// producer id with epoch 0; `initProducer({ name })` gives a named producer (a service
// instance that restarts) the same id each time with the next epoch, so the previous
// instance, if it is still alive, is fenced: its publishes fail with WEIR_PRODUCER_FENCED from
// that moment on, on every stream. Named identities persist in `producers.json` in the data
// directory (written whole, then renamed into place).

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, InvalidArgumentError, WeirError } from '../../common/errors.js';
import { Limits } from '../../common/limits.js';

export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly epoch: number;
}

interface Stored {
  readonly named: Record<string, { id: string; epoch: number }>;
}

const epochMax = 0x7fff;

function randomId(): bigint {
  return randomBytes(8).readBigUInt64BE() >> 2n;
}

export class ProducerRegistry {
  readonly #file: string | undefined;
  readonly #named = new Map<string, ProducerIdentity>();
  /** Current epoch of every named producer id, for fencing at publish. */
  readonly #epochs = new Map<bigint, number>();
  #saving: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined) {
    this.#file = file;
  }

  static async open(dataDir: string | undefined): Promise<ProducerRegistry> {
    const registry = new ProducerRegistry(
      dataDir === undefined ? undefined : path.join(dataDir, 'producers.json'),
    );
    if (registry.#file !== undefined) {
      let text: string | undefined;
      try {
        text = await fs.readFile(registry.#file, 'utf8');
      } catch {
        text = undefined;
      }
      if (text !== undefined) {
        const stored = JSON.parse(text) as Stored;
        for (const [name, { id, epoch }] of Object.entries(stored.named)) {
          registry.#remember(name, { producerId: BigInt(id), epoch });
        }
      }
    }
    return registry;
  }

  async initProducer(name: string | undefined): Promise<ProducerIdentity> {
    if (name === undefined) return { producerId: randomId(), epoch: 0 };
    if (typeof name !== 'string' || name.length === 0 || name.length > Limits.nameLengthMax) {
      throw new InvalidArgumentError(`a producer name is 1 to ${Limits.nameLengthMax} characters`);
    }
    const previous = this.#named.get(name);
    const identity =
      previous === undefined || previous.epoch >= epochMax
        ? { producerId: randomId(), epoch: 0 }
        : { producerId: previous.producerId, epoch: previous.epoch + 1 };
    if (previous !== undefined) this.#epochs.delete(previous.producerId);
    if (this.#named.size >= Limits.producersNamedMax && previous === undefined) {
      throw new WeirError(ErrorCode.LimitExceeded, `at most ${Limits.producersNamedMax} named producers`);
    }
    this.#remember(name, identity);
    await this.#save();
    return identity;
  }

  /** Throws WEIR_PRODUCER_FENCED when a newer instance of this named producer exists. */
  checkEpoch(producerId: bigint, epoch: number): void {
    const current = this.#epochs.get(producerId);
    if (current !== undefined && epoch < current) {
      throw new WeirError(
        ErrorCode.ProducerFenced,
        `producer ${producerId} epoch ${epoch} is fenced: epoch ${current} has taken over`,
      );
    }
  }

  #remember(name: string, identity: ProducerIdentity): void {
    this.#named.set(name, identity);
    this.#epochs.set(identity.producerId, identity.epoch);
  }

  #save(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    const named: Stored['named'] = {};
    for (const [name, identity] of this.#named) {
      named[name] = { id: identity.producerId.toString(), epoch: identity.epoch };
    }
    const text = JSON.stringify({ named } satisfies Stored);
    const next = this.#saving.then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.tmp`;
      const handle = await fs.open(temporary, 'w');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temporary, file);
    });
    this.#saving = next.catch(() => undefined);
    return next;
  }
}
