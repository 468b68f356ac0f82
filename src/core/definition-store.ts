// Stream and consumer definitions, persisted across restarts.
//
// File: `<dataDir>/definitions.json`, a JSON object
//   { "version": 1, "streams": [ { "config": StreamConfig, "consumers": [ConsumerConfig…] } ] }
// rewritten whole on every change: write `definitions.json.tmp`, fsync it, rename it over the
// old file, fsync the directory. A crash leaves either the old or the new file, never a torn
// one. Ephemeral consumers are never written. Without a data directory nothing is persisted.
//
// Writes are serialised: `save` queues the latest snapshot and one write runs at a time.

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { WeirError, ErrorCode } from '../common/errors.js';
import type { ConsumerConfig, StreamConfig } from './api.js';

export interface StreamDefinition {
  readonly config: StreamConfig;
  readonly consumers: readonly ConsumerConfig[];
}

interface DefinitionsFile {
  readonly version: 1;
  readonly streams: readonly StreamDefinition[];
}

export class DefinitionStore {
  readonly #file: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string | undefined) {
    this.#file = dataDir === undefined ? undefined : path.join(dataDir, 'definitions.json');
  }

  async load(): Promise<StreamDefinition[]> {
    if (this.#file === undefined) return [];
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let parsed: DefinitionsFile;
    try {
      parsed = JSON.parse(text) as DefinitionsFile;
    } catch (error) {
      throw new WeirError(ErrorCode.CorruptLog, `definitions file ${this.#file} is not valid JSON`, {
        cause: error,
      });
    }
    if (parsed.version !== 1 || !Array.isArray(parsed.streams)) {
      throw new WeirError(ErrorCode.CorruptLog, `definitions file ${this.#file} has an unknown format`);
    }
    return [...parsed.streams];
  }

  /** Persists the given definitions; resolves once they are durable. */
  save(streams: readonly StreamDefinition[]): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    const body: DefinitionsFile = {
      version: 1,
      streams: streams.map((stream) => ({
        config: stream.config,
        consumers: stream.consumers.filter((consumer) => consumer.durable),
      })),
    };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    const next = this.#writing.then(() => writeAtomically(file, text));
    // A failed write must not poison later ones; the caller of this save still sees it.
    this.#writing = next.catch(() => undefined);
    return next;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const directory = path.dirname(file);
  await mkdir(directory, { recursive: true });
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const directoryHandle = await open(directory, 'r');
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
}
