// Shared by the kiosk and desk browser tests: Debian's Chromium through playwright-core,
// the kiosk and desk pages of a running `onshi terminal kiosk`, and screenshots.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const base = process.env.ONSHI_TERMINAL_URL;
const shots = process.env.ONSHI_SCREENSHOTS;
if (!base || !shots) throw new Error('ONSHI_TERMINAL_URL and ONSHI_SCREENSHOTS must be set');
fs.mkdirSync(shots, { recursive: true });

/** Chromium, fresh profile, 1024x768; with `camera` a .y4m file as the fake camera. */
export async function launch({ camera } = {}) {
  const args = [
    '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic',
  ];
  if (camera) {
    args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${camera}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onshi-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.ONSHI_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
    viewport: { width: 1024, height: 768 },
    locale: 'ja-JP',
  });
  const close = async () => {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { context, close };
}

let n = 0;
/** A numbered full-page screenshot. */
export async function shot(page, name) {
  n += 1;
  const file = path.join(shots, `${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens the kiosk and waits for its event stream to deliver the first screen. */
export async function openKiosk(context) {
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw new Error(`kiosk page error: ${e.message}`); });
  await page.goto(`${base}/kiosk`);
  await page.waitForSelector('#screen [data-step]');
  // The event stream is open once the server has sent a screen through it.
  await page.waitForFunction(() => window.htmx !== undefined);
  return page;
}

export async function openDesk(context, lang = 'ja') {
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw new Error(`desk page error: ${e.message}`); });
  await page.goto(`${base}/desk${lang === 'en' ? '?lang=en' : ''}`);
  await page.waitForSelector('#reader .reader-state');
  // Marks this very document: a reload would lose it.
  await page.evaluate(() => { window.__notReloaded = true; });
  return page;
}

/** Waits until the kiosk shows `step` (the data-step of the screen). */
export async function step(page, name, timeout = 30000) {
  await page.waitForSelector(`#screen [data-step="${name}"]`, { timeout });
}

export async function title(page) {
  return (await page.textContent('#screen h1')).trim();
}

export async function alerts(page) {
  return (await page.$$eval('#screen .alert', (els) => els.map((e) => e.textContent.trim())));
}

export function expect(cond, what) {
  if (!cond) throw new Error(`expected: ${what}`);
}

export function includes(text, part, what) {
  expect(text.includes(part), `${what}: ${JSON.stringify(text)} contains ${JSON.stringify(part)}`);
}

/** Places the card file `name` with the simulation panel. */
export async function placeCard(page, name) {
  await page.click(`button.sim-place[data-card="${name}"]`);
}

/** Types a PIN on the pad (taps, as a patient does) and confirms. */
export async function enterPin(page, pin) {
  const before = await page.getAttribute('#screen [data-step]', 'data-seq');
  for (const d of pin) await page.click(`#screen [data-digit="${d}"]`);
  expect((await page.inputValue('#pin')).length === pin.length, 'the pad fills the field');
  await page.click('#screen .pinpad button.ok');
  await page.waitForFunction((seq) => {
    const s = document.querySelector('#screen [data-step]');
    return s && s.dataset.seq !== seq;
  }, before);
}

/** Answers the five consent screens: yes for the numbers (1-based) in `yes`. */
export async function consents(page, yes) {
  for (let i = 1; i <= 5; i += 1) {
    await step(page, 'consent');
    const progress = (await page.textContent('#screen .progress')).trim();
    expect(progress === `${i} / 5`, `consent screen ${i} of 5, got ${progress}`);
    const explain = (await page.textContent('#screen .explain')).trim();
    expect(explain.length > 40, 'each consent screen explains the kind');
    if (i === 1) await shot(page, 'consent');
    const before = await page.getAttribute('#screen [data-step]', 'data-seq');
    await page.click(yes.includes(i) ? '#screen button.yes' : '#screen button.no');
    await page.waitForFunction((seq) => {
      const s = document.querySelector('#screen [data-step]');
      return s && s.dataset.seq !== seq;
    }, before);
  }
}

/** The kiosk page fits 1024x768: no sideways scrolling, large type, big buttons. */
export async function checkLayout(page) {
  const m = await page.evaluate(() => {
    const buttons = Array.from(document.querySelectorAll('#screen button')).filter((b) => b.offsetParent);
    return {
      scrollWidth: document.documentElement.scrollWidth,
      h1: parseFloat(getComputedStyle(document.querySelector('#screen h1')).fontSize),
      smallest: Math.min(...buttons.map((b) => Math.min(b.getBoundingClientRect().height, b.getBoundingClientRect().width))),
      screenBottom: Math.max(...buttons.map((b) => b.getBoundingClientRect().bottom)),
    };
  });
  expect(m.scrollWidth <= 1024, `no sideways scrolling at 1024 wide (${m.scrollWidth})`);
  expect(m.h1 >= 32, `large title type (${m.h1}px)`);
  expect(m.smallest >= 44, `touch targets at least 44px (${m.smallest}px)`);
  expect(m.screenBottom <= 768, `the screen's buttons are visible without scrolling (${m.screenBottom})`);
}

/** Waits on the desk for a row whose text has every part, without reloading. */
export async function deskRow(desk, parts, timeout = 30000) {
  await desk.waitForFunction((ps) => Array.from(document.querySelectorAll('#receptions tr'))
    .some((tr) => ps.every((p) => tr.textContent.includes(p))), parts, { timeout });
  expect(await desk.evaluate(() => window.__notReloaded === true), 'the desk was not reloaded');
  return desk.locator('#receptions tr', { hasText: parts[0] }).first();
}
