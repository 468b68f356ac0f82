// Correctness is part of the measurement: a subscriber records every message it gets, and
// at the end the checker compares that with what the publisher had confirmed. What counts
// as a failure depends on what the protocol promised for the run.

export const DeliveryGuarantee = {
  AtMostOnce: 'at-most-once',
  AtLeastOnce: 'at-least-once',
  ExactlyOnce: 'exactly-once',
} as const;

export type DeliveryGuarantee = (typeof DeliveryGuarantee)[keyof typeof DeliveryGuarantee];

export interface DeliveryPromise {
  readonly guarantee: DeliveryGuarantee;
  /** Order within one stream (topic, queue or partition) from one publisher. */
  readonly ordered: boolean;
}

export interface CheckResult {
  /** Distinct messages received that the publisher had sent. */
  readonly received: number;
  /** Confirmed messages never received. */
  readonly lost: number;
  /** Deliveries of a message already received. */
  readonly duplicates: number;
  /** First deliveries that arrived after a later message of the same stream. */
  readonly outOfOrder: number;
  /**
   * First deliveries marked as redeliveries (MQTT DUP, STOMP redelivered) that arrived after
   * a later message: the broker dropped or held the first attempt. Redelivery is the one
   * place a message may overtake another, so this is reported, not a violation.
   */
  readonly redeliveredLate: number;
  /** Messages whose stream or sequence the publisher never sent. */
  readonly unexpected: number;
  /** Why the run must fail under its promise; empty when it kept it. */
  readonly violations: readonly string[];
}

/** Records what one subscriber connection received, stream by stream. */
export class SequenceChecker {
  private readonly seen: Uint8Array[] = [];
  private readonly highest: number[] = [];
  private duplicates = 0;
  private outOfOrder = 0;
  private redeliveredLate = 0;
  private unexpected = 0;
  private distinct = 0;

  constructor(private readonly streamCount: number) {
    for (let stream = 0; stream < streamCount; stream++) {
      this.seen.push(new Uint8Array(1024));
      this.highest.push(-1);
    }
  }

  /** Records a delivery; returns true when it is the first delivery of that message. */
  record(streamIndex: number, sequence: number, redelivered = false): boolean {
    let seen = this.seen[streamIndex];
    if (seen === undefined) {
      this.unexpected++;
      return false;
    }
    if (sequence >= seen.length) {
      let length = seen.length;
      while (length <= sequence) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(seen);
      seen = grown;
      this.seen[streamIndex] = grown;
    }
    if (seen[sequence] === 1) {
      this.duplicates++;
      return false;
    }
    seen[sequence] = 1;
    this.distinct++;
    const highest = this.highest[streamIndex] ?? -1;
    if (sequence >= highest) this.highest[streamIndex] = sequence;
    else if (redelivered) this.redeliveredLate++;
    else this.outOfOrder++;
    return true;
  }

  /** How many distinct messages have been received so far. */
  get receivedCount(): number {
    return this.distinct;
  }

  /** True when every message 0..n-1 of every stream has been received. */
  hasAll(confirmedPerStream: readonly number[]): boolean {
    const total = confirmedPerStream.reduce((sum, count) => sum + count, 0);
    if (this.distinct < total) return false;
    return this.missing(confirmedPerStream) === 0;
  }

  /**
   * Compares with the publisher's confirmed messages: sequences 0..n-1 of stream i, where
   * n is `confirmedPerStream[i]`. Messages sent but never confirmed may arrive or not.
   */
  verify(confirmedPerStream: readonly number[], promise: DeliveryPromise): CheckResult {
    const lost = this.missing(confirmedPerStream);
    let unexpected = this.unexpected;
    for (let stream = 0; stream < this.streamCount; stream++) {
      const seen = this.seen[stream] ?? new Uint8Array(0);
      const sentCount = confirmedPerStream[stream] ?? 0;
      for (let sequence = sentCount; sequence < seen.length; sequence++) {
        if (seen[sequence] === 1) unexpected++;
      }
    }
    const violations: string[] = [];
    if (lost > 0 && promise.guarantee !== DeliveryGuarantee.AtMostOnce) {
      violations.push(
        `${lost} confirmed messages were never received (${promise.guarantee}), e.g. ${this.describeMissing(confirmedPerStream)}`,
      );
    }
    if (this.duplicates > 0 && promise.guarantee !== DeliveryGuarantee.AtLeastOnce) {
      violations.push(`${this.duplicates} messages were delivered more than once (${promise.guarantee})`);
    }
    if (this.outOfOrder > 0 && promise.ordered) {
      violations.push(`${this.outOfOrder} messages arrived out of order within their stream`);
    }
    return {
      received: this.distinct,
      lost,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      redeliveredLate: this.redeliveredLate,
      unexpected,
      violations,
    };
  }

  /** The first few missing ranges, `stream 3: 0–23`, to tell a startup race from a steady leak. */
  private describeMissing(confirmedPerStream: readonly number[], rangesMax = 3): string {
    const ranges: string[] = [];
    for (let stream = 0; stream < confirmedPerStream.length && ranges.length < rangesMax; stream++) {
      const count = confirmedPerStream[stream] ?? 0;
      const seen = this.seen[stream];
      let sequence = 0;
      while (sequence < count && ranges.length < rangesMax) {
        if (seen !== undefined && seen[sequence] === 1) {
          sequence++;
          continue;
        }
        const first = sequence;
        while (sequence < count && (seen === undefined || seen[sequence] !== 1)) sequence++;
        const last = sequence - 1;
        ranges.push(`stream ${stream}: ${first === last ? first : `${first}–${last}`} of ${count}`);
      }
    }
    return ranges.join(', ');
  }

  private missing(confirmedPerStream: readonly number[]): number {
    let missing = 0;
    for (let stream = 0; stream < confirmedPerStream.length; stream++) {
      const count = confirmedPerStream[stream] ?? 0;
      const seen = this.seen[stream];
      for (let sequence = 0; sequence < count; sequence++) {
        if (seen === undefined || seen[sequence] !== 1) missing++;
      }
    }
    return missing;
  }
}
