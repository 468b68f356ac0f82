// End-to-end latency: each subscriber records (receive time − send time) into an HDR
// histogram in microseconds, sends it to the harness encoded, and the harness merges the
// histograms of all subscribers of a run.
import * as hdr from 'hdr-histogram-js';

const highestTrackableMicroseconds = 3_600_000_000;

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Percentile spectrum for a CDF chart: latency at each percentile, ascending. */
  readonly cdf: readonly { readonly percentile: number; readonly latencyMs: number }[];
}

function createHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: highestTrackableMicroseconds,
    numberOfSignificantValueDigits: 3,
  });
}

export class LatencyRecorder {
  private readonly histogram = createHistogram();

  recordNs(latencyNs: number): void {
    const microseconds = Math.round(latencyNs / 1000);
    this.histogram.recordValue(Math.min(Math.max(microseconds, 1), highestTrackableMicroseconds));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }
}

/** Percentiles at which the CDF is sampled: evenly spaced in "nines" up to 99.999. */
export function cdfPercentiles(): number[] {
  const percentiles: number[] = [];
  for (let step = 0; step <= 50; step++) {
    const nines = step / 10;
    percentiles.push(100 * (1 - Math.pow(10, -nines)));
  }
  return percentiles;
}

export function summarizeLatency(encodedHistograms: readonly string[]): LatencySummary | undefined {
  const merged = createHistogram();
  for (const encoded of encodedHistograms) {
    const histogram = hdr.decodeFromCompressedBase64(encoded);
    merged.add(histogram);
    histogram.destroy();
  }
  if (merged.totalCount === 0) return undefined;
  const at = (percentile: number): number => merged.getValueAtPercentile(percentile) / 1000;
  const summary: LatencySummary = {
    count: merged.totalCount,
    p50Ms: at(50),
    p99Ms: at(99),
    p999Ms: at(99.9),
    maxMs: merged.maxValue / 1000,
    cdf: cdfPercentiles()
      .filter((percentile) => (1 - percentile / 100) * merged.totalCount >= 1 || percentile === 0)
      .map((percentile) => ({ percentile, latencyMs: at(percentile) })),
  };
  merged.destroy();
  return summary;
}
