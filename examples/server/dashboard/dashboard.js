// The monitoring dashboard: reads /v1/stats/* and draws them with chart.js (served by the
// server from its node_modules). Plain browser JavaScript, no build step.
/* global Chart */
'use strict';

const PALETTE = ['#3e7bfa', '#f59f00', '#12b886', '#e64980', '#7950f2', '#fd7e14', '#15aabf', '#82c91e', '#868e96', '#c92a2a'];
const ERROR_TYPE_COLORS = { grammar: '#3e7bfa', vocabulary: '#f59f00', pronunciation: '#7950f2', formality: '#e64980', none: '#12b886' };
const charts = {};

/** Exposed for tests and debugging: the chart instances and the last data loaded. */
window.__dashboard = { charts, data: null };

function color(i) {
  return PALETTE[i % PALETTE.length];
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** Every UTC day of the window, oldest first, as 'YYYY-MM-DD'. */
function dayLabels(days) {
  const out = [];
  const today = new Date();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
  charts[id] = new Chart(document.getElementById(id), config);
}

function costChart(labels, costs) {
  const keys = [...new Set(costs.map((r) => `${r.providerType} / ${r.providerName}`))].sort();
  const datasets = keys.map((key, i) => ({
    label: key,
    backgroundColor: color(i),
    data: labels.map((d) =>
      costs.filter((r) => r.date === d && `${r.providerType} / ${r.providerName}` === key).reduce((s, r) => s + Number(r.totalCostUsd ?? 0), 0),
    ),
  }));
  draw('chart-cost', {
    type: 'bar',
    data: { labels, datasets },
    options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'USD' } } } },
  });
}

function callsChart(labels, calls) {
  const caps = ['stt', 'tts', 'eval'];
  const datasets = caps.map((cap, i) => ({
    type: 'bar',
    label: `${cap} calls`,
    backgroundColor: color(i),
    yAxisID: 'y',
    order: 1,
    data: labels.map((d) => calls.filter((r) => r.date === d && r.providerType === cap).reduce((s, r) => s + r.calls, 0)),
  }));
  datasets.push({
    type: 'line',
    label: 'success rate %',
    borderColor: '#1f2933',
    backgroundColor: '#1f2933',
    yAxisID: 'y1',
    // Lower order draws later: the line stays visible on top of the stacked bars.
    order: 0,
    pointRadius: 5,
    spanGaps: true,
    data: labels.map((d) => {
      const rows = calls.filter((r) => r.date === d);
      const total = rows.reduce((s, r) => s + r.calls, 0);
      return total ? (100 * rows.reduce((s, r) => s + r.successfulCalls, 0)) / total : null;
    }),
  });
  draw('chart-calls', {
    type: 'bar',
    data: { labels, datasets },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, title: { display: true, text: 'calls' } },
        y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: '%' } },
      },
    },
  });
}

function latencyChart(window) {
  const labels = window.map((r) => `${r.providerType} / ${r.providerName}`);
  const datasets = [
    { label: 'p50', backgroundColor: '#12b886', data: window.map((r) => r.p50Ms) },
    { label: 'p95', backgroundColor: '#f59f00', data: window.map((r) => r.p95Ms) },
    { label: 'p99', backgroundColor: '#e64980', data: window.map((r) => r.p99Ms) },
  ];
  draw('chart-latency', { type: 'bar', data: { labels, datasets }, options: { scales: { y: { title: { display: true, text: 'ms' } } } } });
}

function passChart(labels, evals) {
  const data = labels.map((d) => {
    const rows = evals.filter((r) => r.date === d);
    const total = rows.reduce((s, r) => s + r.totalEvaluations, 0);
    return total ? (100 * rows.reduce((s, r) => s + r.passRate * r.totalEvaluations, 0)) / total : null;
  });
  draw('chart-pass', {
    type: 'line',
    data: { labels, datasets: [{ label: 'pass rate %', data, borderColor: '#3e7bfa', backgroundColor: '#3e7bfa', spanGaps: true, pointRadius: 5 }] },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
}

function errorsChart(labels, evals) {
  const types = [...new Set(evals.map((r) => r.primaryErrorType ?? 'none'))].sort();
  const datasets = types.map((t, i) => ({
    label: t === 'none' ? 'none (correct)' : t,
    backgroundColor: ERROR_TYPE_COLORS[t] ?? color(i),
    data: labels.map((d) => evals.filter((r) => r.date === d && (r.primaryErrorType ?? 'none') === t).reduce((s, r) => s + r.totalEvaluations, 0)),
  }));
  draw('chart-errors', { type: 'bar', data: { labels, datasets }, options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'evaluations' } } } } });
}

// Money saved per day (bars, USD) and the share of attempts the cache answered (line, %).
function cacheChart(labels, cache) {
  const on = (d) => cache.filter((r) => r.date === d);
  const saved = labels.map((d) => on(d).reduce((s, r) => s + Number(r.savedCostUsd), 0));
  const rate = labels.map((d) => {
    const rows = on(d);
    const total = rows.reduce((s, r) => s + r.hits + r.misses, 0);
    return total ? (100 * rows.reduce((s, r) => s + r.hits, 0)) / total : null;
  });
  draw('chart-cache', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'saved USD', backgroundColor: color(2), data: saved, yAxisID: 'y' },
        { type: 'line', label: 'hit rate %', backgroundColor: color(4), borderColor: color(4), data: rate, yAxisID: 'rate', spanGaps: true },
      ],
    },
    options: { scales: { y: { title: { display: true, text: 'USD' } }, rate: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: '%' } } } },
  });
}

function breakersTable(breakers) {
  const body = document.querySelector('#breakers tbody');
  body.replaceChildren(
    ...Object.entries(breakers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, state]) => {
        const [cap, provider] = key.split(':');
        const tr = document.createElement('tr');
        for (const text of [cap, provider]) {
          const td = document.createElement('td');
          td.textContent = text;
          tr.append(td);
        }
        const td = document.createElement('td');
        const badge = document.createElement('span');
        badge.className = `state state-${state}`;
        badge.textContent = state.replace('_', '-');
        td.append(badge);
        tr.append(td);
        return tr;
      }),
  );
}

function cacheTiles(cache) {
  const hits = cache.reduce((s, r) => s + r.hits, 0);
  const total = cache.reduce((s, r) => s + r.hits + r.misses, 0);
  const saved = cache.reduce((s, r) => s + Number(r.savedCostUsd), 0);
  document.getElementById('tile-cache-hits').textContent = total ? `${((100 * hits) / total).toFixed(1)}%` : '–';
  document.getElementById('tile-saved').textContent = `$${saved.toFixed(4)}`;
}

function tiles(costs, calls, evals) {
  const cost = costs.reduce((s, r) => s + Number(r.totalCostUsd ?? 0), 0);
  const totalCalls = calls.reduce((s, r) => s + r.calls, 0);
  const ok = calls.reduce((s, r) => s + r.successfulCalls, 0);
  const totalEvals = evals.reduce((s, r) => s + r.totalEvaluations, 0);
  const passed = evals.reduce((s, r) => s + r.passRate * r.totalEvaluations, 0);
  document.getElementById('tile-cost').textContent = `$${cost.toFixed(4)}`;
  document.getElementById('tile-calls').textContent = String(totalCalls);
  document.getElementById('tile-success').textContent = totalCalls ? `${((100 * ok) / totalCalls).toFixed(1)}%` : '–';
  document.getElementById('tile-evals').textContent = String(totalEvals);
  document.getElementById('tile-pass').textContent = totalEvals ? `${((100 * passed) / totalEvals).toFixed(1)}%` : '–';
}

async function refresh() {
  const days = Number(document.getElementById('days').value);
  const q = `?days=${days}`;
  const errorBox = document.getElementById('error');
  try {
    const [costs, calls, latency, evals, breakers, cache] = await Promise.all([
      getJson(`/v1/stats/costs${q}`),
      getJson(`/v1/stats/calls${q}`),
      getJson(`/v1/stats/latency${q}`),
      getJson(`/v1/stats/evaluations${q}`),
      getJson('/v1/stats/breakers'),
      getJson(`/v1/stats/cache${q}`),
    ]);
    const labels = dayLabels(days);
    window.__dashboard.data = { costs, calls, latency, evals, breakers, cache };
    tiles(costs.rows, calls.rows, evals.rows);
    costChart(labels, costs.rows);
    callsChart(labels, calls.rows);
    latencyChart(latency.window);
    passChart(labels, evals.rows);
    errorsChart(labels, evals.rows);
    cacheChart(labels, cache.rows);
    cacheTiles(cache.rows);
    breakersTable(breakers.breakers);
    errorBox.hidden = true;
    document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.state = 'ready';
  } catch (e) {
    errorBox.textContent = `Could not load the stats: ${e.message}`;
    errorBox.hidden = false;
    document.body.dataset.state = 'error';
  }
}

document.getElementById('days').addEventListener('change', refresh);
refresh();
setInterval(refresh, 30_000);
