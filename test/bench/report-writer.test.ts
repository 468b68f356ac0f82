import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord } from '../../bench/harness/outcome.js';
import { formatFigure, formatRatio, renderReport } from '../../bench/harness/report-writer.js';

const record: RunRecord = {
  profile: 'quick',
  notes: ['Weir built from a test branch'],
  startedAt: '2026-01-02T03:04:05.000Z',
  finishedAt: '2026-01-02T03:09:05.000Z',
  machine: {
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGiB: 24,
    os: 'Debian',
    node: 'v20.0.0',
    disk: 'ext4 (/dev/x)',
  },
  workloads: [
    {
      name: 'max-rate-1kib',
      title: '1 topic, 1 partition, 1 KiB, max rate',
      kind: 'throughput',
      messageBytes: 1024,
    },
    { name: 'latency-1000-per-s', title: 'latency at 1,000 msg/s', kind: 'latency', messageBytes: 1024 },
    { name: 'backlog-drain', title: 'peak shaving', kind: 'backlog', messageBytes: 1024 },
  ],
  protocols: ['mqtt'],
  systems: [
    {
      name: 'weir',
      version: '0.1.0',
      protocols: ['mqtt'],
      durability: { mqtt: { fsyncBeforeConfirm: true, description: 'group commit' } },
      settings: [],
    },
    {
      name: 'mosquitto',
      version: '2.0.11',
      protocols: ['mqtt'],
      durability: { mqtt: { fsyncBeforeConfirm: false, description: 'in memory' } },
      settings: ['max_queued_messages 0'],
    },
    {
      name: 'aedes',
      version: '—',
      protocols: ['mqtt'],
      durability: {},
      settings: [],
      unavailableReason: 'not installed',
    },
  ],
  outcomes: [
    {
      protocol: 'mqtt',
      workload: 'max-rate-1kib',
      system: 'weir',
      status: 'ok',
      metrics: {
        msgs_per_s: 30_000,
        mb_per_s: 30.72,
        p50_ms: 1,
        p99_ms: 2,
        p999_ms: 3,
        cpu_s: 1,
        rss_mb: 80,
      },
      notes: [],
    },
    {
      protocol: 'mqtt',
      workload: 'max-rate-1kib',
      system: 'mosquitto',
      status: 'ok',
      metrics: {
        msgs_per_s: 60_000,
        mb_per_s: 61.44,
        p50_ms: 0.5,
        p99_ms: 1,
        p999_ms: 2,
        cpu_s: 2,
        rss_mb: 10,
      },
      notes: ['a load generator used 95% of a core: it may be the bottleneck'],
    },
    {
      protocol: 'mqtt',
      workload: 'max-rate-1kib',
      system: 'aedes',
      status: 'unavailable',
      reason: 'not installed',
      metrics: {},
      notes: [],
    },
    {
      protocol: 'mqtt',
      workload: 'latency-1000-per-s',
      system: 'weir',
      status: 'failed',
      reason: '3 confirmed messages were never received (at-least-once)',
      metrics: {},
      notes: [],
    },
    {
      protocol: 'mqtt',
      workload: 'latency-1000-per-s',
      system: 'mosquitto',
      status: 'ok',
      metrics: { msgs_per_s: 1000, p50_ms: 0.2, p99_ms: 0.5, p999_ms: 0.9 },
      latencyCdf: [
        { percentile: 0, latencyMs: 0.1 },
        { percentile: 90, latencyMs: 0.3 },
        { percentile: 99, latencyMs: 0.5 },
      ],
      notes: [],
    },
    {
      protocol: 'mqtt',
      workload: 'backlog-drain',
      system: 'mosquitto',
      status: 'ok',
      metrics: { msgs_per_s: 20_000, backlog_msgs: 50_000, accumulate_msgs_per_s: 25_000, rss_mb: 120 },
      rssSeries: [
        { seconds: 0, rssMb: 10 },
        { seconds: 2, rssMb: 120 },
        { seconds: 4, rssMb: 30 },
      ],
      drainStartSeconds: 2,
      notes: [],
    },
  ],
};

test('figures and ratios are formatted for people', () => {
  assert.equal(formatFigure(56_519.6), '56,520');
  assert.equal(formatFigure(12.345), '12.3');
  assert.equal(formatFigure(0.1234), '0.12');
  assert.equal(formatFigure(undefined), '—');
  assert.equal(formatRatio(30_000, 60_000), '0.50×');
  assert.equal(formatRatio(undefined, 60_000), '—');
  assert.equal(formatRatio(1, 0), '—');
});

test('the report has the machine, the comparability statement and every system with its durability', () => {
  const { markdown } = renderReport(record);
  assert.match(markdown, /Only ratios within one run are comparable/);
  assert.match(markdown, /^Note: Weir built from a test branch$/m);
  assert.match(markdown, /\| Test CPU \| 2 \| 24 GiB \| Debian \| v20\.0\.0 \|/);
  assert.match(markdown, /\| weir \| 0\.1\.0 \| mqtt \| yes \| group commit \|/);
  assert.match(markdown, /\| mosquitto \| 2\.0\.11 \| mqtt \| no \| in memory \| max_queued_messages 0 \|/);
  assert.match(markdown, /\| aedes \| — \| mqtt \| — \| not run: not installed \|/);
});

test('each workload has one row per system and the ratio of Weir to each peer', () => {
  const { markdown } = renderReport(record);
  const section = markdown.slice(markdown.indexOf('### 1 topic'), markdown.indexOf('### latency'));
  assert.match(
    section,
    /\| weir \| 30,000 \| 30\.7 \| 1\.00 \| 2\.00 \| 3\.00 \| 1\.00 \| 80\.0 \| — \| 1× \|/,
  );
  assert.match(section, /\| mosquitto \| 60,000 \| 61\.4 \|.*\| 0\.50× \|/);
  assert.match(section, /\| aedes \| not run: not installed \|/);
  assert.match(section, /- mosquitto: a load generator used 95% of a core/);
  assert.match(markdown, /\| mqtt max-rate-1kib \(msg\/s\) \| 0\.50× \| — \|/);
});

test('a failed run is shown as FAILED with its reason and no figures', () => {
  const { markdown } = renderReport(record);
  assert.match(
    markdown,
    /## Failures\n\n.*\n\n- \*\*weir\*\*, mqtt `latency-1000-per-s`: 3 confirmed messages/,
  );
  const section = markdown.slice(markdown.indexOf('### latency'), markdown.indexOf('### peak'));
  assert.match(
    section,
    /\| weir \| \*\*FAILED\*\*: 3 confirmed messages were never received \(at-least-once\) \|/,
  );
  assert.match(section, /\| mosquitto \| 1,000 \|/);
});

test('charts are generated and embedded: throughput bars, latency CDF, RSS over time', () => {
  const { markdown, charts } = renderReport(record);
  assert.deepEqual([...charts.keys()].sort(), [
    'mqtt-backlog-drain-rss.svg',
    'mqtt-backlog-drain-throughput.svg',
    'mqtt-latency-1000-per-s-latency-cdf.svg',
    'mqtt-latency-1000-per-s-throughput.svg',
    'mqtt-max-rate-1kib-throughput.svg',
  ]);
  for (const file of charts.keys()) assert.ok(markdown.includes(`(charts/${file})`), file);
  assert.ok(charts.get('mqtt-backlog-drain-rss.svg')?.includes('<polyline'));
  const backlog = markdown.slice(markdown.indexOf('### peak'));
  assert.match(backlog, /\| mosquitto \| 50,000 \| 25,000 \| 20,000 \|/);
});

test('the same record renders the same report', () => {
  assert.equal(renderReport(record).markdown, renderReport(record).markdown);
});
