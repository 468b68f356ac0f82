// A one-line progress bar on stderr for long CLI runs (`weir bench`). It draws only on a
// terminal, at most every `intervalMs`, and only once the run has lasted `delayMs`, so
// short runs and piped output stay clean.

export interface ProgressOptions {
  readonly total: number;
  readonly label: string;
  readonly stream?: NodeJS.WriteStream;
  readonly enabled?: boolean;
  readonly intervalMs?: number;
  readonly delayMs?: number;
  readonly nowMs?: () => number;
}

const barWidth = 30;

/** `[=========>          ] 45%  45000/100000  90,000/s` */
export function renderProgress(done: number, total: number, elapsedMs: number, label: string): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * barWidth);
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (fraction >= 1 ? '=' : '>') : '');
  const rate = elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label} [${bar.padEnd(barWidth)}] ${percent}  ${done}/${total}  ${rate.toLocaleString('en-US')}/s`;
}

export class ProgressBar {
  readonly #options: ProgressOptions;
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #nowMs: () => number;
  readonly #startedMs: number;
  #done = 0;
  #lastDrawMs = 0;
  #drawn = false;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = options.enabled ?? this.#stream.isTTY === true;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#startedMs = this.#nowMs();
  }

  /** Adds to the count done; redraws when due. */
  tick(count = 1): void {
    this.#done += count;
    if (!this.#enabled) return;
    const now = this.#nowMs();
    if (now - this.#startedMs < (this.#options.delayMs ?? 1000)) return;
    if (now - this.#lastDrawMs < (this.#options.intervalMs ?? 100) && this.#done < this.#options.total)
      return;
    this.#lastDrawMs = now;
    this.#draw(now);
  }

  get done(): number {
    return this.#done;
  }

  /** Clears the bar's line, if one was drawn. */
  stop(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  #draw(now: number): void {
    this.#stream.write(
      `\r\x1b[2K${renderProgress(this.#done, this.#options.total, now - this.#startedMs, this.#options.label)}`,
    );
    this.#drawn = true;
  }
}
