// The report's charts: throughput bars, latency CDF (percentile spectrum) and RSS over time.
import { formatShort, niceTicks, SvgDocument } from './svg-writer.js';

const palette = ['#1b6ac9', '#e8710a', '#12a4b4', '#a142f4', '#d93025', '#188038', '#9aa0a6'];
export const weirColor = '#1b6ac9';

/** Colours by system name, Weir always the same blue, peers in a stable order. */
export function colorFor(system: string, systems: readonly string[]): string {
  if (system === 'weir') return weirColor;
  const peers = systems.filter((name) => name !== 'weir');
  return palette[1 + (Math.max(peers.indexOf(system), 0) % (palette.length - 1))] ?? '#666';
}

export interface Bar {
  readonly label: string;
  /** Undefined draws an empty row with `note` instead of a bar. */
  readonly value: number | undefined;
  readonly color: string;
  readonly note?: string;
}

/** Horizontal bars, one row per system, value printed at the end of each bar. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const rowHeight = 26;
  const left = 110;
  const right = 130;
  const top = 36;
  const width = 640;
  const height = top + bars.length * rowHeight + 34;
  const plotWidth = width - left - right;
  const maximum = Math.max(...bars.map((bar) => bar.value ?? 0), 0);
  const ticks = niceTicks(0, maximum > 0 ? maximum : 1, 4);
  const scaleMaximum = Math.max(ticks.at(-1) ?? 1, maximum, 1e-9);
  const x = (value: number): number => left + (value / scaleMaximum) * plotWidth;
  const svg = new SvgDocument(width, height);
  svg.text(left, 20, title, { 'font-size': 14, 'font-weight': 'bold' });
  const bottom = top + bars.length * rowHeight;
  for (const tick of ticks) {
    svg.line(x(tick), top - 4, x(tick), bottom, { stroke: '#e0e0e0' });
    svg.text(x(tick), bottom + 16, formatShort(tick), { 'text-anchor': 'middle', fill: '#555' });
  }
  svg.text(left + plotWidth / 2, bottom + 30, unit, { 'text-anchor': 'middle', fill: '#555' });
  bars.forEach((bar, row) => {
    const y = top + row * rowHeight;
    svg.text(left - 8, y + 16, bar.label, { 'text-anchor': 'end' });
    if (bar.value === undefined) {
      svg.text(left + 4, y + 16, bar.note ?? 'no result', { fill: '#999', 'font-style': 'italic' });
      return;
    }
    svg.rect(left, y + 4, x(bar.value) - left, rowHeight - 8, { fill: bar.color });
    const label = bar.note === undefined ? formatShort(bar.value) : `${formatShort(bar.value)} ${bar.note}`;
    svg.text(x(bar.value) + 6, y + 16, label, { fill: '#333' });
  });
  return svg.toString();
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  /** Vertical dashed marker at this x, in the series' colour (e.g. when a drain began). */
  readonly markerX?: number;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** 'nines' places x = percentile p at log10(1 / (1 − p/100)): 0, 90, 99, 99.9 … evenly. */
  readonly xAxis: 'linear' | 'nines';
  readonly yAxis: 'linear' | 'log';
}

export function ninesPosition(percentile: number): number {
  return Math.log10(1 / Math.max(1 - percentile / 100, 1e-7));
}

export function lineChart(options: LineChartOptions, series: readonly Series[]): string {
  const width = 640;
  const height = 360;
  const left = 64;
  const right = 130;
  const top = 36;
  const bottom = 50;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const svg = new SvgDocument(width, height);
  svg.text(left, 20, options.title, { 'font-size': 14, 'font-weight': 'bold' });
  const toX = (value: number): number => (options.xAxis === 'nines' ? ninesPosition(value) : value);
  const toY = (value: number): number =>
    options.yAxis === 'log' ? Math.log10(Math.max(value, 1e-3)) : value;
  const all = series.flatMap((line) => line.points);
  if (all.length === 0) {
    svg.text(left, top + 20, 'no data', { fill: '#999', 'font-style': 'italic' });
    return svg.toString();
  }
  const xs = all.map(([xValue]) => toX(xValue));
  const ys = all.map(([, yValue]) => toY(yValue));
  const xMinimum = options.xAxis === 'nines' ? 0 : Math.min(...xs, 0);
  const xMaximum = Math.max(...xs, xMinimum + 1e-9);
  const yMinimum = options.yAxis === 'log' ? Math.floor(Math.min(...ys)) : 0;
  const yMaximum =
    options.yAxis === 'log' ? Math.ceil(Math.max(...ys, yMinimum + 1)) : Math.max(...ys, 1e-9) * 1.05;
  const px = (value: number): number => left + ((value - xMinimum) / (xMaximum - xMinimum)) * plotWidth;
  const py = (value: number): number =>
    top + plotHeight - ((value - yMinimum) / (yMaximum - yMinimum)) * plotHeight;
  // Axes and grid.
  const xTicks =
    options.xAxis === 'nines'
      ? Array.from({ length: Math.floor(xMaximum) + 1 }, (_unused, nines) => nines)
      : niceTicks(xMinimum, xMaximum, 6);
  for (const tick of xTicks) {
    svg.line(px(tick), top, px(tick), top + plotHeight, { stroke: '#eee' });
    const label = options.xAxis === 'nines' ? ninesLabel(tick) : formatShort(tick);
    svg.text(px(tick), top + plotHeight + 16, label, { 'text-anchor': 'middle', fill: '#555' });
  }
  const yTicks =
    options.yAxis === 'log'
      ? Array.from({ length: yMaximum - yMinimum + 1 }, (_unused, index) => yMinimum + index)
      : niceTicks(0, yMaximum, 5);
  for (const tick of yTicks) {
    svg.line(left, py(tick), left + plotWidth, py(tick), { stroke: '#eee' });
    const label = options.yAxis === 'log' ? formatShort(Math.pow(10, tick)) : formatShort(tick);
    svg.text(left - 6, py(tick) + 4, label, { 'text-anchor': 'end', fill: '#555' });
  }
  svg.line(left, top + plotHeight, left + plotWidth, top + plotHeight, { stroke: '#555' });
  svg.line(left, top, left, top + plotHeight, { stroke: '#555' });
  svg.text(left + plotWidth / 2, height - 12, options.xLabel, { 'text-anchor': 'middle', fill: '#555' });
  svg.text(14, top + plotHeight / 2, options.yLabel, {
    'text-anchor': 'middle',
    fill: '#555',
    transform: `rotate(-90 14 ${top + plotHeight / 2})`,
  });
  series.forEach((line, index) => {
    const points = line.points.map(([xValue, yValue]) => [px(toX(xValue)), py(toY(yValue))] as const);
    svg.polyline(points, { stroke: line.color, 'stroke-width': line.name === 'weir' ? 2.5 : 1.6 });
    if (line.markerX !== undefined) {
      const markerX = px(toX(line.markerX));
      svg.line(markerX, top, markerX, top + plotHeight, { stroke: line.color, 'stroke-dasharray': '4 3' });
    }
    const legendY = top + 8 + index * 18;
    svg.rect(left + plotWidth + 12, legendY - 8, 12, 4, { fill: line.color });
    svg.text(left + plotWidth + 30, legendY - 2, line.name);
  });
  return svg.toString();
}

function ninesLabel(nines: number): string {
  if (nines === 0) return '0%';
  return `${(100 * (1 - Math.pow(10, -nines))).toFixed(Math.max(nines - 2, 0))}%`;
}
