import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChart, colorFor, lineChart, ninesPosition, weirColor } from '../../bench/harness/charts.js';
import { escapeXml, formatShort, niceTicks, SvgDocument } from '../../bench/harness/svg-writer.js';

test('text and attributes are escaped', () => {
  assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&#39;');
  const svg = new SvgDocument(10, 10).text(1, 2, '<weir & co>', { class: 'a"b' }).toString();
  assert.ok(svg.includes('<text x="1" y="2" class="a&quot;b">&lt;weir &amp; co&gt;</text>'));
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('nice ticks are round and cover the range', () => {
  assert.deepEqual(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0, 0.9, 4), [0, 0.5]);
  assert.deepEqual(niceTicks(0, 1000, 4), [0, 500, 1000]);
  assert.deepEqual(niceTicks(0, 7, 3), [0, 5]);
  assert.deepEqual(niceTicks(5, 5, 4), [5]);
});

test('short numbers', () => {
  assert.equal(formatShort(56_519), '56.5k');
  assert.equal(formatShort(1_250_000), '1.25M');
  assert.equal(formatShort(0.125), '0.125');
  assert.equal(formatShort(950), '950');
});

test('a bar chart draws one bar per value, proportional, and a note for missing ones', () => {
  const svg = barChart('t', 'msg/s', [
    { label: 'weir', value: 100, color: weirColor },
    { label: 'peer', value: 50, color: '#000' },
    { label: 'gone', value: undefined, color: '#000', note: 'not available' },
  ]);
  const widths = [...svg.matchAll(/<rect x="110" y="[\d.]+" width="([\d.]+)"/g)].map((match) =>
    Number(match[1]),
  );
  assert.equal(widths.length, 2);
  assert.ok(Math.abs((widths[0] ?? 0) / (widths[1] ?? 1) - 2) < 0.01);
  assert.ok(svg.includes('not available'));
  assert.ok(svg.includes('>weir</text>'));
});

test('a line chart maps points into the plot and draws a legend per series', () => {
  const svg = lineChart({ title: 'rss', xLabel: 's', yLabel: 'MiB', xAxis: 'linear', yAxis: 'linear' }, [
    {
      name: 'weir',
      color: weirColor,
      points: [
        [0, 10],
        [5, 20],
        [10, 15],
      ],
      markerX: 5,
    },
    {
      name: 'peer',
      color: '#e8710a',
      points: [
        [0, 5],
        [10, 40],
      ],
    },
  ]);
  const polylines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((match) => match[1] ?? '');
  assert.equal(polylines.length, 2);
  for (const point of polylines.join(' ').split(' ')) {
    const [x, y] = point.split(',').map(Number);
    assert.ok((x ?? -1) >= 64 && (x ?? 1e9) <= 640 - 130, `x ${x} inside the plot`);
    assert.ok((y ?? -1) >= 36 && (y ?? 1e9) <= 360 - 50, `y ${y} inside the plot`);
  }
  assert.ok(svg.includes('stroke-dasharray'));
  assert.ok(svg.includes('>peer</text>'));
});

test('percentiles sit evenly in nines', () => {
  assert.equal(ninesPosition(0), 0);
  assert.ok(Math.abs(ninesPosition(90) - 1) < 1e-9);
  assert.ok(Math.abs(ninesPosition(99.9) - 3) < 1e-9);
});

test('Weir keeps its colour and peers get distinct ones', () => {
  const systems = ['weir', 'mosquitto', 'aedes'];
  assert.equal(colorFor('weir', systems), weirColor);
  assert.notEqual(colorFor('mosquitto', systems), colorFor('aedes', systems));
  assert.notEqual(colorFor('mosquitto', systems), weirColor);
});
