/* global uPlot */
// The collector dashboard: fetches /dashboard/data.json and draws it with uPlot (a global from
// uPlot.iife.min.js). Plain browser JavaScript, served as is — no build step between the collector and
// the page. The read token, when needed, comes from the page URL (?token=) and travels as a bearer header.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  const FETCH_TIMEOUT_MS = 8000;
  const CHART_HEIGHT = 240;
  const PALETTE = ['#2f6fdf', '#e0752d', '#2a9d5b', '#c2417a', '#7b5cd6', '#8a6d3b', '#1b9aaa', '#d1495b'];
  const BACKEND_COLORS = { webgpu: '#2f6fdf', wasm: '#e0752d', server: '#3a9d5d' };
  const TYPE_COLORS = { session: '#7b5cd6', model_load: '#1b9aaa', inference: '#2f6fdf', error: '#d1495b', feedback: '#2a9d5b' };

  const token = new URLSearchParams(location.search).get('token');
  const windowSelect = document.getElementById('window');
  const status = document.getElementById('status');
  /** name → { plot, key } so a refresh with the same series only swaps data. */
  const charts = new Map();
  let timer;

  windowSelect.addEventListener('change', () => refresh());
  window.addEventListener('resize', () => {
    for (const [name, c] of charts) c.plot.setSize({ width: chartWidth(name), height: CHART_HEIGHT });
  });
  refresh();

  async function refresh() {
    clearTimeout(timer);
    try {
      const res = await fetch(`/dashboard/data.json?windowMs=${encodeURIComponent(windowSelect.value)}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(res.status === 401 ? 'read token missing or wrong (add ?token=…)' : `HTTP ${res.status}`);
      render(await res.json());
      status.className = '';
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      status.className = 'error';
      status.textContent = `refresh failed: ${e.message}`;
    } finally {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function render(data) {
    renderAlerts(data.alerts);
    renderGroups(data.summary.groups);
    renderLatency(data.latency);
    renderEvents(data.eventsOverTime);
    renderMonitor('accuracy', data.accuracy, thresholdOf(data.rules, 'accuracy'), (v) => v.toFixed(3));
    renderMonitor('psi', data.psi, thresholdOf(data.rules, 'psi'), (v) => v.toFixed(3));
  }

  function renderLatency(latency) {
    const labels = latency.bucketsMs.map((ms) => `≤${ms}`).concat('>' + latency.bucketsMs[latency.bucketsMs.length - 1]);
    const x = labels.map((_, i) => i);
    const backends = Object.keys(latency.backends).sort();
    const series = backends.map((b, i) => ({
      label: b,
      stroke: BACKEND_COLORS[b] ?? PALETTE[i % PALETTE.length],
      fill: (BACKEND_COLORS[b] ?? PALETTE[i % PALETTE.length]) + 'aa',
      width: 1,
      // Two backends sit side by side around each bucket; more would overlap, which is acceptable.
      paths: uPlot.paths.bars({ size: [backends.length > 1 ? 0.4 : 0.7, 80], align: backends.length === 2 ? (i === 0 ? -1 : 1) : 0 }),
      points: { show: false },
    }));
    upsertChart(
      'latency',
      {
        scales: { x: { time: false, range: [-0.6, labels.length - 0.4] } },
        axes: [
          { label: 'latency (ms)', splits: () => x, values: (_, splits) => splits.map((i) => labels[i] ?? '') },
          { label: 'inferences' },
        ],
        series: [{ label: 'bucket', value: (_, i) => (i == null ? '' : labels[i]) }, ...series],
        legend: { show: true },
      },
      [x, ...backends.map((b) => latency.backends[b])],
    );
  }

  function renderEvents(events) {
    const types = Object.keys(events.series);
    upsertChart(
      'events',
      {
        scales: { x: { time: true } },
        axes: [{}, { label: `events / ${Math.round(events.bucketMs / 1000)} s` }],
        series: [{}, ...types.map((t, i) => ({ label: t, stroke: TYPE_COLORS[t] ?? PALETTE[i % PALETTE.length], width: 2 }))],
      },
      [events.t.map((ms) => ms / 1000), ...types.map((t) => events.series[t])],
    );
  }

  function renderMonitor(name, list, threshold, format) {
    const tables = list.map((s) => [s.t.map((ms) => ms / 1000), s.v]);
    let data = tables.length > 0 ? uPlot.join(tables) : [[]];
    const series = [
      {},
      ...list.map((s, i) => ({
        label: s.name,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        spanGaps: true,
        value: (_, v) => (v == null ? '–' : format(v)),
      })),
    ];
    if (threshold !== null && data[0].length > 0) {
      series.push({ label: `threshold ${threshold}`, stroke: '#b3261e', dash: [6, 4], width: 1, points: { show: false } });
      data = [...data, data[0].map(() => threshold)];
    }
    upsertChart(
      name,
      {
        scales: { x: { time: true } },
        axes: [{}, { label: name, values: (_, splits) => splits.map((v) => format(v)) }],
        series,
      },
      data,
    );
  }

  function upsertChart(name, options, data) {
    const key = JSON.stringify(options.series.map((s) => s.label ?? ''));
    const existing = charts.get(name);
    if (existing && existing.key === key) {
      existing.plot.setData(data);
      return;
    }
    existing?.plot.destroy();
    const el = document.getElementById(`chart-${name}`);
    el.textContent = '';
    const plot = new uPlot({ width: chartWidth(name), height: CHART_HEIGHT, ...options }, data, el);
    charts.set(name, { plot, key });
  }

  function chartWidth(name) {
    return Math.max(300, document.getElementById(`chart-${name}`).clientWidth);
  }

  function renderAlerts(alerts) {
    const body = document.querySelector('#alerts tbody');
    body.textContent = '';
    if (alerts.length === 0) {
      body.append(row([badge('none', 'none'), 'no alerts yet', '', '', '', '', '', '']));
      return;
    }
    for (const a of alerts) {
      body.append(
        row([
          badge(a.state, a.state),
          a.rule,
          seriesName(a.labels),
          num(a.state === 'resolved' && a.resolvedValue !== null ? a.resolvedValue : a.value),
          `${a.op} ${a.threshold}`,
          String(a.samples),
          time(a.firedAtMs),
          a.resolvedAtMs ? time(a.resolvedAtMs) : '',
        ]),
      );
    }
  }

  function renderGroups(groups) {
    const body = document.querySelector('#groups tbody');
    body.textContent = '';
    for (const g of groups) {
      const devices = Object.entries(g.devices)
        .sort((a, b) => b[1] - a[1])
        .map(([d, n]) => `${d} (${n})`)
        .join(', ');
      body.append(
        row([
          g.modelId,
          g.modelVersion,
          g.backend,
          String(g.count),
          pct(g.backendShare),
          num(g.latencyMs.p50),
          num(g.latencyMs.p95),
          num(g.latencyMs.p99),
          num(g.meanLoadMs),
          g.errorRate === null ? '–' : pct(g.errorRate),
          devices || '–',
        ]),
      );
    }
    if (groups.length === 0) body.append(row(['no data in this window', '', '', '', '', '', '', '', '', '', '']));
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.append(c);
      else td.textContent = c; // textContent: labels and messages come from clients
      tr.append(td);
    }
    return tr;
  }

  function badge(text, kind) {
    const span = document.createElement('span');
    span.className = `state ${kind}`;
    span.textContent = text;
    return span;
  }

  const thresholdOf = (rules, metric) => rules.find((r) => r.metric === metric)?.threshold ?? null;
  const seriesName = (l) => `${l.modelId}@${l.modelVersion}${l.backend ? ` (${l.backend})` : ''}`;
  const num = (v) =>
    v === null || v === undefined || Number.isNaN(v) ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3).replace(/\.?0+$/, '');
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  const time = (ms) => new Date(ms).toLocaleString();
})();
