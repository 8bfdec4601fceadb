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
    // The release view (below) starts when the server says the release control plane is mounted.
    document.dispatchEvent(new CustomEvent('ondevice:dashboard-data', { detail: data }));
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

// The release view: /v1/releases lists the models with releases, /v1/releases/{model} gives versions,
// per-version field metrics with intervals and the decision log. Drawn as a rollout timeline (uPlot,
// stepped), a version table and the decisions, newest first.
(() => {
  const REFRESH_MS = 5000;
  const FETCH_TIMEOUT_MS = 8000;
  const PALETTE = ['#2f6fdf', '#e0752d', '#2a9d5b', '#c2417a', '#7b5cd6', '#8a6d3b', '#1b9aaa', '#d1495b'];
  const token = new URLSearchParams(location.search).get('token');
  const root = document.getElementById('release-models');
  const plots = new Map();
  let timer;
  let started = false;
  // A standalone collector has no /v1/releases: asking would log a 404 in the console.
  document.addEventListener('ondevice:dashboard-data', (e) => {
    if (started || !e.detail.releaseView) return;
    started = true;
    document.getElementById('releases').hidden = false;
    refresh();
  });

  async function getJson(path) {
    const res = await fetch(path, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      cache: 'no-store',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const { models } = await getJson('/v1/releases');
      const statuses = await Promise.all(models.map((id) => getJson(`/v1/releases/${encodeURIComponent(id)}`)));
      // Models with more than their seeded release first: those are the ones being rolled out.
      statuses.sort((a, b) => b.versions.length - a.versions.length || a.modelId.localeCompare(b.modelId));
      render(statuses);
      root.dataset.ready = 'true';
    } catch (e) {
      root.dataset.error = e.message;
    } finally {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
    for (const c of children) node.append(c); // strings become text nodes: versions and reasons are data
    return node;
  }

  const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  const interval = (i, n, f = pct) => (n === 0 || i.estimate === null ? '–' : `${f(i.estimate)} [${f(i.low)}, ${f(i.high)}]`);
  const ms = (x) => (x === null ? '–' : x.toFixed(1));

  function render(statuses) {
    for (const s of statuses) {
      let card = document.getElementById(`release-${s.modelId}`);
      if (!card) {
        card = el('div', { id: `release-${s.modelId}`, class: 'release' });
        root.append(card);
      }
      card.textContent = '';
      const rollbacks = s.decisions.filter((d) => d.action === 'rollback' && d.actor === 'policy');
      card.append(el('h3', {}, `${s.modelId} `, el('span', { class: 'muted' }, `stable ${s.stable ?? '–'}`)));
      for (const d of rollbacks.slice(0, 3))
        card.append(
          el(
            'p',
            { class: 'release-alert', role: 'alert' },
            `rolled back ${d.version} at ${new Date(d.atMs).toLocaleString()}: ${d.reason}`,
          ),
        );
      if (s.lastEvaluation)
        card.append(
          el('p', { class: 'muted' }, `policy: ${s.lastEvaluation.version} ${s.lastEvaluation.action} — ${s.lastEvaluation.reason}`),
        );
      // A model with only its seeded release has no rollout to draw.
      if (s.versions.length > 1) {
        const chart = el('div', { class: 'chart release-chart' });
        card.append(chart);
        drawTimeline(s, chart);
      }
      const head = ['Version', 'State', 'Rollout', 'Installs', 'Inferences', 'Accuracy (n)', 'Error rate', 'p95 ms', 'Last decision'];
      const rows = s.versions.map((v) => {
        const f = v.field;
        return el(
          'tr',
          { class: `state-${v.state}` },
          ...[
            v.version,
            v.state.replace('_', ' '),
            `${v.percent}%`,
            String(f.installs),
            String(f.inferences),
            `${interval(f.accuracy, f.feedback)} (${f.feedback})`,
            interval(f.errorRate, f.inferences),
            interval(f.p95Ms, f.inferences, ms),
            v.lastDecision ? `${v.lastDecision.actor} ${v.lastDecision.action}: ${v.lastDecision.reason}` : '–',
          ].map((c) => el('td', {}, c)),
        );
      });
      card.append(
        el('table', { class: 'versions' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows)),
      );
      const log = el('ol', { class: 'decisions' });
      for (const d of s.decisions.slice(0, 12))
        log.append(
          el(
            'li',
            {},
            `${new Date(d.atMs).toLocaleTimeString()} ${d.version} ${d.actor} ${d.action} ${d.fromPercent}%→${d.toPercent}%: ${d.reason}`,
          ),
        );
      card.append(el('details', {}, el('summary', {}, `Decisions (${s.decisions.length})`), log));
    }
  }

  /** Rollout percentage per version, stepped, from the decision log (oldest first). */
  function drawTimeline(s, container) {
    const decisions = [...s.decisions].reverse();
    if (decisions.length === 0) return;
    const versions = s.versions.map((v) => v.version);
    const times = [...new Set(decisions.map((d) => Math.floor(d.atMs / 1000)))];
    times.push(Math.floor(Date.now() / 1000));
    const current = Object.fromEntries(versions.map((v) => [v, null]));
    const series = versions.map(() => []);
    for (const t of times) {
      for (const d of decisions) {
        if (Math.floor(d.atMs / 1000) !== t) continue;
        // A promotion retires the previous stable: it drops to 0 at the same moment.
        if (d.action === 'promote') for (const v of versions) if (v !== d.version && current[v] !== null) current[v] = 0;
        current[d.version] = d.toPercent;
      }
      versions.forEach((v, i) => series[i].push(current[v]));
    }
    const width = Math.max(320, container.parentElement.clientWidth - 32);
    const plot = new uPlot(
      {
        width,
        height: 180,
        scales: { y: { range: [0, 100] } },
        axes: [{}, { label: 'rollout %' }],
        series: [
          {},
          ...versions.map((v, i) => ({
            label: v,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            paths: uPlot.paths.stepped({ align: 1 }),
          })),
        ],
      },
      [times, ...series],
      container,
    );
    plots.get(s.modelId)?.destroy();
    plots.set(s.modelId, plot);
  }
})();

// The jobs view: /v1/jobs lists retraining jobs (src/retrain) with their gate figures, newest first.
(() => {
  const REFRESH_MS = 5000;
  const FETCH_TIMEOUT_MS = 8000;
  const token = new URLSearchParams(location.search).get('token');
  const body = document.querySelector('#jobs-table tbody');
  let timer;
  let started = false;
  // Only a server with retraining mounted has /v1/jobs.
  document.addEventListener('ondevice:dashboard-data', (e) => {
    if (started || !e.detail.jobsView) return;
    started = true;
    document.getElementById('jobs').hidden = false;
    refresh();
  });

  async function refresh() {
    clearTimeout(timer);
    try {
      const res = await fetch('/v1/jobs?limit=20', {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`/v1/jobs: HTTP ${res.status}`);
      const { jobs } = await res.json();
      // A federated job's rounds: in its metrics once it ended, from the rounds endpoint while it runs.
      const live = new Map();
      for (const j of jobs.filter((j) => j.state === 'running')) {
        const r = await fetch(`/v1/federated/${encodeURIComponent(j.modelId)}/rounds?job=${encodeURIComponent(j.id)}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          cache: 'no-store',
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        }).catch(() => undefined);
        if (r?.ok)
          live.set(
            j.id,
            (await r.json()).rounds.map((x) => ({
              ...x.summary,
              round: x.seq,
              kind: x.kind,
              open: x.state === 'open',
              updates: x.updates,
            })),
          );
      }
      render(jobs, live);
      body.parentElement.dataset.ready = 'true';
    } catch (e) {
      body.parentElement.dataset.error = e.message;
    } finally {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
    for (const c of children) node.append(c); // strings become text nodes: reasons are data
    return node;
  }

  const accuracy = (a) => (a ? `${a.current.toFixed(1)}% → ${a.candidate.toFixed(1)}% (${a.count})` : '–');
  const seconds = (ms) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);

  const percent = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  function roundText(r) {
    if (r.open) return `round ${r.round} ${r.kind}: open, ${r.updates ?? 0} updates so far`;
    if (r.kind === 'evaluate')
      return `round ${r.round} evaluate: ${r.clients} clients, ${r.examples} held back, ${r.current ? percent(r.current.correct / r.current.count) : '–'} → ${r.candidate ? percent(r.candidate.correct / r.candidate.count) : '–'}`;
    if (r.updateNorm === undefined) return `round ${r.round} ${r.kind}: ${r.clients} clients (too few)`;
    return `round ${r.round} train: ${r.clients} clients, ${r.examples} examples, update norm ${r.updateNorm}, field ${percent(r.fieldAccuracy)}`;
  }

  function render(jobs, live) {
    body.textContent = '';
    for (const j of jobs) {
      const m = j.metrics ?? {};
      const d = j.dataSummary;
      const rounds = m.rounds ?? live.get(j.id);
      const fieldData = !d
        ? '–'
        : d.rounds !== undefined
          ? `federated: ${d.rounds} rounds, ${d.clientsPerRound.join('/')} clients`
          : `${d.train} trained, ${d.heldBack} held back (${d.read} read, ${d.duplicates} dup)`;
      const result = j.state === 'succeeded' ? `published ${j.resultVersion}` : (j.reason ?? '');
      body.append(
        el(
          'tr',
          { class: `job job-${j.state}`, 'data-job': j.id },
          el('td', {}, new Date(j.startedMs ?? j.createdMs).toLocaleString()),
          el('td', {}, `${j.modelId}${j.baseVersion ? ` from ${j.baseVersion}` : ''}`),
          el('td', {}, j.trigger),
          el('td', { class: 'job-state' }, j.state),
          el('td', {}, seconds(j.durationMs)),
          el('td', {}, accuracy(m.baseAccuracy)),
          el('td', {}, accuracy(m.fieldAccuracy)),
          el('td', {}, fieldData),
          el('td', { class: 'job-result' }, result),
        ),
      );
      if (rounds?.length)
        body.append(
          el(
            'tr',
            { class: 'job-rounds', 'data-job': j.id },
            el('td', { colspan: '9' }, el('ol', {}, ...rounds.map((r) => el('li', {}, roundText(r))))),
          ),
        );
    }
  }
})();
