// The protocol-neutral publisher: sends message i to stream i mod S with sequence
// floor(i / S), as fast as the confirm window allows or at a fixed rate, in batches of
// pre-encoded frames, and keeps track of what the broker confirmed.
import type { PublisherReport } from './generator-messages.js';
import { nowNs } from './payload.js';
import type { PublisherDriver } from './protocol-driver.js';

const batchMessagesMax = 64;
const confirmWaitMs = 30_000;
const rateTickMs = 1;

export interface PublisherOptions {
  readonly streamCount: number;
  readonly ratePerSecond: number | undefined;
  readonly durationMs: number;
  readonly messageCount: number | undefined;
  readonly inflightMax: number;
  /** How long to wait for outstanding confirms once sending has stopped (default 30 s). */
  readonly confirmWaitMs?: number;
}

export class Publisher {
  private sent = 0;
  private confirmedTotal = 0;
  private confirmed = new Uint8Array(1 << 16);
  private stopped = false;
  private waitingForDrain = false;
  private startNs = 0;
  private failure: Error | undefined;
  private settle: (() => void) | undefined;
  private readonly inflightMax: number;

  constructor(
    private readonly driver: PublisherDriver,
    private readonly options: PublisherOptions,
  ) {
    this.inflightMax = Math.min(options.inflightMax, driver.inflightLimit);
    driver.onConfirm((index) => {
      if (index === undefined) {
        this.afterConfirms();
        return;
      }
      if (index >= this.confirmed.length) this.growConfirmed(index);
      if (this.confirmed[index] === 0) {
        this.confirmed[index] = 1;
        this.confirmedTotal++;
      }
    });
    driver.onDrain(() => {
      this.waitingForDrain = false;
      this.fill();
    });
    driver.onError((error) => {
      this.failure ??= error;
      this.stopped = true;
      this.settle?.();
    });
  }

  async run(): Promise<PublisherReport> {
    const cpuBefore = process.cpuUsage();
    this.startNs = nowNs();
    const deadline = setTimeout(() => this.stop(), this.options.durationMs);
    let ticker: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => (this.settle = resolve));
    if (this.options.ratePerSecond === undefined) this.fill();
    else ticker = setInterval(() => this.fill(), rateTickMs);
    await done;
    clearTimeout(deadline);
    if (ticker !== undefined) clearInterval(ticker);
    if (this.failure !== undefined) throw this.failure;
    const endNs = nowNs();
    await this.driver.close();
    const cpu = process.cpuUsage(cpuBefore);
    return {
      sent: this.sent,
      confirmedPerStream: this.confirmedPrefixPerStream(),
      unconfirmed: this.sent - this.confirmedTotal,
      startNs: this.startNs,
      endNs,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      wallSeconds: (endNs - this.startNs) / 1e9,
    };
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.driver.confirms) {
      // Nothing to wait for but the socket buffer: close() flushes it.
      this.confirmedTotal = this.sent;
      this.confirmed = new Uint8Array(this.sent).fill(1);
      this.settle?.();
      return;
    }
    if (this.confirmedTotal === this.sent) {
      this.settle?.();
      return;
    }
    setTimeout(() => this.settle?.(), this.options.confirmWaitMs ?? confirmWaitMs).unref();
  }

  private afterConfirms(): void {
    if (this.stopped) {
      if (this.confirmedTotal === this.sent) this.settle?.();
      return;
    }
    this.fill();
  }

  private limitReached(): boolean {
    return this.options.messageCount !== undefined && this.sent >= this.options.messageCount;
  }

  private fill(): void {
    if (this.stopped || this.waitingForDrain) return;
    const rate = this.options.ratePerSecond;
    let due = Number.POSITIVE_INFINITY;
    if (rate !== undefined) due = Math.floor(((nowNs() - this.startNs) * rate) / 1e9) + 1;
    for (;;) {
      if (this.limitReached()) {
        this.stop();
        return;
      }
      const inflight = this.driver.confirms ? this.sent - this.confirmedTotal : 0;
      let count = Math.min(batchMessagesMax, this.inflightMax - inflight, due - this.sent);
      if (this.options.messageCount !== undefined) {
        count = Math.min(count, this.options.messageCount - this.sent);
      }
      if (count <= 0) return;
      if (!this.writeBatch(count, rate)) {
        this.waitingForDrain = true;
        return;
      }
    }
  }

  private writeBatch(count: number, rate: number | undefined): boolean {
    const streams = this.options.streamCount;
    let bytes = 0;
    for (let index = this.sent; index < this.sent + count; index++)
      bytes += this.driver.frameBytes(index % streams);
    const batch = Buffer.allocUnsafe(bytes);
    const now = nowNs();
    let offset = 0;
    for (let index = this.sent; index < this.sent + count; index++) {
      const stream = index % streams;
      // At a fixed rate the send time is the scheduled one, so a publisher that falls
      // behind shows up as latency instead of hiding it (coordinated omission).
      const sentNs = rate === undefined ? now : this.startNs + Math.floor((index * 1e9) / rate);
      this.driver.encode(batch, offset, stream, Math.floor(index / streams), index, sentNs);
      offset += this.driver.frameBytes(stream);
    }
    this.sent += count;
    return this.driver.write(batch);
  }

  private growConfirmed(index: number): void {
    let length = this.confirmed.length;
    while (length <= index) length *= 2;
    const grown = new Uint8Array(length);
    grown.set(this.confirmed);
    this.confirmed = grown;
  }

  /** Per stream, how many messages from sequence 0 on were all confirmed. */
  private confirmedPrefixPerStream(): number[] {
    const streams = this.options.streamCount;
    const prefix = new Array<number>(streams).fill(0);
    const open = new Array<boolean>(streams).fill(true);
    for (let index = 0; index < this.sent; index++) {
      const stream = index % streams;
      if (!open[stream]) continue;
      if (this.confirmed[index] === 1) prefix[stream] = (prefix[stream] ?? 0) + 1;
      else open[stream] = false;
    }
    return prefix;
  }
}
