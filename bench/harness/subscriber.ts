// The protocol-neutral subscriber: a set of connections that each receive every message of
// the run, each with its own correctness checker, sharing one latency histogram.
import type { SubscriberReport } from './generator-messages.js';
import { LatencyRecorder } from './latency.js';
import { nowNs, readPayloadStamp } from './payload.js';
import type { SubscriberDriver } from './protocol-driver.js';
import { SequenceChecker, type DeliveryPromise } from './sequence-checker.js';

const progressPollMs = 100;

export class SubscriberSet {
  private readonly checkers: SequenceChecker[];
  private readonly latency = new LatencyRecorder();
  private deliveries = 0;
  private firstNs = 0;
  private lastNs = 0;
  private consumeStartNs = 0;
  private cpuBefore = process.cpuUsage();
  private failure: Error | undefined;

  constructor(
    private readonly drivers: readonly SubscriberDriver[],
    streamCount: number,
  ) {
    this.checkers = drivers.map(() => new SequenceChecker(streamCount));
    drivers.forEach((driver, connection) => {
      const checker = this.checkers[connection];
      if (checker === undefined) return;
      driver.onPayload((source, offset, length, redelivered) => {
        const now = nowNs();
        this.deliveries++;
        if (this.firstNs === 0) this.firstNs = now;
        this.lastNs = now;
        const stamp = readPayloadStamp(source, offset, length);
        if (stamp === undefined) {
          checker.record(-1, 0);
          return;
        }
        if (checker.record(stamp.streamIndex, stamp.sequence, redelivered))
          this.latency.recordNs(now - stamp.sentNs);
      });
      driver.onError((error) => (this.failure ??= error));
    });
  }

  /** Connects every subscriber; with `resume`, reattaches to subscriptions kept by the broker. */
  async connect(resume: boolean): Promise<void> {
    this.consumeStartNs = nowNs();
    this.cpuBefore = process.cpuUsage();
    await Promise.all(this.drivers.map((driver) => driver.connect(resume)));
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.drivers.map((driver) => driver.close()));
  }

  /**
   * Waits until every connection has every confirmed message, or until nothing new arrived
   * for `idleTimeoutMs`; then checks what was received against the promise.
   */
  async finish(
    confirmedPerStream: readonly number[],
    promise: DeliveryPromise,
    idleTimeoutMs: number,
  ): Promise<SubscriberReport> {
    let lastProgressAt = Date.now();
    let lastCount = -1;
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (this.failure !== undefined) return resolve();
        if (this.checkers.every((checker) => checker.hasAll(confirmedPerStream))) return resolve();
        if (this.deliveries !== lastCount) {
          lastCount = this.deliveries;
          lastProgressAt = Date.now();
        } else if (Date.now() - lastProgressAt > idleTimeoutMs) {
          return resolve();
        }
        setTimeout(poll, progressPollMs);
      };
      poll();
    });
    if (this.failure !== undefined) throw this.failure;
    const endNs = nowNs();
    await this.disconnect();
    const cpu = process.cpuUsage(this.cpuBefore);
    return {
      checks: this.checkers.map((checker) => checker.verify(confirmedPerStream, promise)),
      deliveries: this.deliveries,
      consumeStartNs: this.consumeStartNs,
      firstNs: this.firstNs,
      lastNs: this.lastNs,
      latency: this.latency.encode(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      wallSeconds: (endNs - this.consumeStartNs) / 1e9,
    };
  }
}
