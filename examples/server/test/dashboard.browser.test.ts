import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { synthesizeWav } from '@korean-together/providers/emulators';
import { startStack, type Stack } from './stack.js';

// The dashboard in a real headless browser: Debian's chromium driven by playwright-core.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n*** dashboard browser test NOT RUN: ${CHROMIUM} is missing. Install it with \`apt-get install -y chromium\` ` +
      '(or set CHROMIUM_PATH) to test /dashboard in a real browser. ***\n',
  );
}

const wav64 = (text: string) => Buffer.from(synthesizeWav(text)).toString('base64');

describe.runIf(hasChromium)('GET /dashboard in headless chromium', () => {
  let s: Stack;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const pageErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    s = await startStack({ label: 'dashboard' });
    // A short lesson's worth of traffic: right and wrong answers, a fallback, a failed call.
    const turn = (body: object) => s.post('/v1/turns', { prompt: '자기소개를 하세요', expectedAnswer: '저는 학생입니다', targetFormality: 'hapsyo', ...body });
    expect((await turn({ audio: wav64('저는 학생입니다'), encoding: 'LINEAR16' })).status).toBe(200);
    expect((await turn({ audio: wav64('저는 학생이에요'), encoding: 'LINEAR16' })).status).toBe(200);
    expect((await turn({ text: '저가 학생입니다' })).status).toBe(200);
    s.emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 14 }, times: 2 });
    expect((await turn({ audio: wav64('저는 학생입니다'), encoding: 'LINEAR16' })).status).toBe(200);
    // Every grader down: the Gemini API, Vertex AI and OpenAI.
    for (const target of ['gemini', 'gemini-vertex', 'openai'] as const) s.emu.faults.add({ target, fault: { kind: 'status', status: 500 } });
    expect((await s.post('/v1/evaluate', { prompt: '인사하세요', learnerAnswer: '안녕하세요' })).status).toBe(502);
    s.emu.faults.clear();
    // Two TTS answers from the SDK's cache, as the core records a hit: no provider call, cost 0, the price it saved.
    for (let i = 0; i < 2; i++) {
      s.server.db.sink.write({ id: randomUUID(), callId: randomUUID(), attempt: 1, providerType: 'tts', providerName: 'google-tts', characters: 16, latencyMs: 0, success: true, estimatedCostUsd: 0, cacheHit: true, savedCostUsd: 0.000512, createdAt: new Date() });
    }
    await s.server.db.sink.flush();

    userDataDir = mkdtempSync(join(tmpdir(), 'kt-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 1100 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${s.baseUrl}/dashboard`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await s?.close();
  });

  it('loads with no script errors and fetches nothing from outside the server (chart.js served locally)', () => {
    expect(pageErrors).toEqual([]);
    expect(requests.length).toBeGreaterThan(5);
    for (const url of requests) expect(url.startsWith(s.baseUrl)).toBe(true);
    expect(requests).toContain(`${s.baseUrl}/dashboard/vendor/chart.umd.min.js`);
  });

  it('draws every chart with the data from the stats endpoints', async () => {
    const charts = await page.evaluate(() => {
      const all = Object.values((window as unknown as { Chart: { instances: Record<string, { canvas: HTMLCanvasElement; data: { datasets: { label: string; data: (number | null)[] }[] } }> } }).Chart.instances);
      return all.map((c) => ({
        id: c.canvas.id,
        datasets: c.data.datasets.map((d) => ({ label: d.label, sum: d.data.reduce<number>((a, v) => a + (typeof v === 'number' ? v : 0), 0) })),
      }));
    });
    const byId = Object.fromEntries(charts.map((c) => [c.id, c.datasets]));
    expect(Object.keys(byId).sort()).toEqual(['chart-cache', 'chart-calls', 'chart-cost', 'chart-errors', 'chart-latency', 'chart-pass']);
    // The cache chart: what the two hits saved today, and a hit rate between 0 and 100%.
    const cache = Object.fromEntries(byId['chart-cache']!.map((d) => [d.label, d.sum]));
    expect(cache['saved USD']).toBeCloseTo(0.001024, 9);
    expect(cache['hit rate %']).toBeGreaterThan(0);
    expect(cache['hit rate %']).toBeLessThan(100);
    const costLabels = byId['chart-cost']!.map((d) => d.label);
    expect(costLabels).toEqual(expect.arrayContaining(['eval / gemini', 'stt / google-stt', 'stt / whisper', 'tts / google-tts']));
    // Providers that answered bill something; the graders that only failed (500s) cost nothing.
    const billed = ['eval / gemini', 'stt / google-stt', 'stt / whisper', 'tts / google-tts'];
    for (const d of byId['chart-cost']!) {
      if (billed.includes(d.label)) expect(d.sum, d.label).toBeGreaterThan(0);
      else expect(d.sum, d.label).toBe(0);
    }
    expect(costLabels).toEqual(expect.arrayContaining(['eval / gemini-vertex', 'eval / openai']));
    const calls = Object.fromEntries(byId['chart-calls']!.map((d) => [d.label, d.sum]));
    expect(calls['eval calls']).toBe(5);
    expect(calls['stt calls']).toBe(3);
    expect(calls['success rate %']).toBeGreaterThan(0);
    expect(calls['success rate %']).toBeLessThan(100);
    expect(byId['chart-latency']!.map((d) => d.label)).toEqual(['p50', 'p95', 'p99']);
    const errorTypes = byId['chart-errors']!.map((d) => d.label);
    expect(errorTypes).toEqual(expect.arrayContaining(['formality', 'none (correct)']));
    expect(byId['chart-pass']![0]!.sum).toBeGreaterThan(0);
  });

  it('renders pixels: each canvas holds its datasets\' colours, and the page screenshot is not blank', async () => {
    const coloured = await page.evaluate(() => {
      const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
      const out: Record<string, number> = {};
      for (const c of Object.values((window as unknown as { Chart: { instances: Record<string, { canvas: HTMLCanvasElement; data: { datasets: { backgroundColor: string }[] } }> } }).Chart.instances)) {
        const ctx = c.canvas.getContext('2d')!;
        const { data } = ctx.getImageData(0, 0, c.canvas.width, c.canvas.height);
        const colours = c.data.datasets.map((d) => hex(d.backgroundColor));
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! < 200) continue;
          if (colours.some(([r, g, b]) => Math.abs(data[i]! - r!) < 8 && Math.abs(data[i + 1]! - g!) < 8 && Math.abs(data[i + 2]! - b!) < 8)) n++;
        }
        out[c.canvas.id] = n;
      }
      return out;
    });
    // Bars cover hundreds of pixels; the pass-rate line chart draws at least its point.
    expect(coloured['chart-cost']).toBeGreaterThan(500);
    expect(coloured['chart-calls']).toBeGreaterThan(500);
    expect(coloured['chart-latency']).toBeGreaterThan(500);
    expect(coloured['chart-errors']).toBeGreaterThan(500);
    expect(coloured['chart-pass']).toBeGreaterThan(20);
    expect(coloured['chart-cache']).toBeGreaterThan(500);

    const shot = join(userDataDir, 'dashboard.png');
    const png = await page.screenshot({ path: shot, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(shot).size).toBeGreaterThan(30_000);
  });

  it('shows the tiles and every breaker state', async () => {
    expect(await page.textContent('#tile-calls')).toMatch(/^\d+$/);
    expect(Number(await page.textContent('#tile-evals'))).toBe(4);
    expect(await page.textContent('#tile-cost')).toMatch(/^\$0\.\d{4}$/);
    expect(await page.textContent('#tile-saved')).toBe('$0.0010');
    expect(await page.textContent('#tile-cache-hits')).toMatch(/^\d+\.\d%$/);
    const rows = await page.$$eval('#breakers tbody tr', (trs) => trs.map((tr) => tr.textContent));
    // One row per chain step: stt google-stt -> whisper, tts google-tts -> openai-tts, eval flash -> flash-vertex -> gpt-4.1-mini.
    expect(rows).toHaveLength(7);
    expect(rows.every((r) => r?.includes('closed'))).toBe(true);
  });
});
