import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pcmToWav, synthesizeMicrophonePcm } from '@korean-together/providers/emulators';
import { LIVE_CLOSE } from '../src/live-protocol.js';
import { startStack, type Stack } from './stack.js';

// The live page in a real headless browser, its microphone Chromium's fake capture device
// playing a WAV made by the emulators (the text rides in the signal's tone code, as a real
// microphone would carry it: Chromium plays the samples, not the file's chunks).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`\n*** live page browser test NOT RUN: ${CHROMIUM} is missing. Install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH). ***\n`);
}

const SAID = '저는 학생입니다';

describe.runIf(hasChromium)('GET /live in headless chromium with a fake microphone', () => {
  let s: Stack;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    s = await startStack({ label: 'live_page' });
    dir = mkdtempSync(join(tmpdir(), 'kt-live-'));
    const wav = join(dir, 'learner.wav');
    // 48 kHz, as capture devices run; the page's AudioContext resamples to 16 kHz.
    writeFileSync(wav, pcmToWav(synthesizeMicrophonePcm(SAID, { sampleRateHertz: 48_000 }), 48_000));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}%noloop`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('hears the learner through getUserMedia as they speak, grades the answer and plays the streamed reply', async () => {
    await page.goto(`${s.baseUrl}/live`);
    await page.click('#start');
    // Interim results while speaking, then the final one.
    await page.waitForFunction((said) => (window as any).liveTurn.finals.join(' ') === said, SAID, { timeout: 20_000 }).catch(async (e) => {
      // Say what the page had heard by then, so a failure tells a lost frame from a wrong word.
      const heard = await page.evaluate(() => JSON.stringify((window as any).liveTurn)).catch(() => 'unreadable');
      throw new Error(`no final transcript equal to the spoken text within 20 s; the page's turn state: ${heard}; page errors: ${pageErrors.join(' | ')}`, { cause: e });
    });
    await page.click('#stop');
    await page.waitForFunction(() => (window as any).liveTurn.done || (window as any).liveTurn.error, undefined, { timeout: 20_000 });
    const turn = await page.evaluate(() => (window as any).liveTurn);
    expect(turn.error).toBeUndefined();
    expect(turn.interims).toBeGreaterThan(0);
    expect(turn.score).toBeGreaterThanOrEqual(70);
    expect(turn.replyBytes).toBeGreaterThan(24_000);
    expect(turn.firstAudioMs).toBeGreaterThanOrEqual(0);
    await page.waitForFunction(() => (window as any).liveTurn.closeCode !== null, undefined, { timeout: 5_000 });
    expect(await page.evaluate(() => (window as any).liveTurn.closeCode)).toBe(LIVE_CLOSE.done);
    expect(await page.textContent('#finals')).toBe(SAID);
    expect(await page.textContent('#status')).toBe('done');
    expect(pageErrors).toEqual([]);

    await s.server.db.sink.flush();
    const events = await s.rows<{ event_type: string; user_input: string | null }>('SELECT event_type, user_input FROM $schema.session_events ORDER BY created_at');
    expect(events.map((e) => e.event_type)).toEqual(['user_input', 'evaluation', 'tutor_response']);
    expect(events[0]!.user_input).toBe(SAID);
    const usage = await s.rows<{ provider_type: string }>('SELECT provider_type FROM $schema.ai_usage_log');
    expect(usage.map((u) => u.provider_type).sort()).toEqual(['eval', 'stt', 'tts']);
  }, 60_000);
});
