// The center's admin pages in headless Chromium: log in with the admin token, enrol a
// terminal and download its certificate and key, use them for a mutual-TLS request,
// revoke the terminal and see that request refused, search a person's eligibility both
// ways, filter the log of checks, view the statistics and the audit log, log out.
//
// Environment: ONSHI_ADMIN_URL (https://host:port of `onshi serve --tls`), ONSHI_ADMIN_TOKEN,
// ONSHI_SCREENSHOTS (folder), ONSHI_INSTITUTION (a registered 医療機関コード),
// ONSHI_PERSON (JSON: insurer_number, symbol, number, branch, birth_date, name, kana),
// ONSHI_CHROMIUM (the browser).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

const base = process.env.ONSHI_ADMIN_URL;
const token = process.env.ONSHI_ADMIN_TOKEN;
const shots = process.env.ONSHI_SCREENSHOTS;
const institution = process.env.ONSHI_INSTITUTION;
const person = JSON.parse(process.env.ONSHI_PERSON || 'null');
if (!base || !token || !shots || !institution || !person) {
  throw new Error('ONSHI_ADMIN_URL, ONSHI_ADMIN_TOKEN, ONSHI_SCREENSHOTS, ONSHI_INSTITUTION and ONSHI_PERSON must be set');
}
fs.mkdirSync(shots, { recursive: true });
const terminalId = 'ADM1';

let n = 0;
async function shot(page, name) {
  n += 1;
  await page.screenshot({ path: path.join(shots, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Every visible form control has a label, and nothing overflows 1024 pixels. */
async function checkPage(page, what) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((e) => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
    .map((e) => e.outerHTML));
  assert.deepEqual(unlabelled, [], `${what}: controls without a label`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 1024, `${what}: page is ${width}px wide at 1024×768`);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja', `${what}: lang`);
}

/** A mutual-TLS request as the terminal whose PEM files are in `dir`. */
function terminalRequest(dir) {
  const body = JSON.stringify({
    institution_code: institution,
    insurer_number: person.insurer_number,
    symbol: person.symbol,
    number: person.number,
    branch: person.branch,
    birth_date: person.birth_date,
  });
  const url = new URL('/v1/eligibility/insurance-data', base);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      cert: fs.readFileSync(path.join(dir, 'terminal.crt.pem')),
      key: fs.readFileSync(path.join(dir, 'terminal.key.pem')),
      ca: fs.readFileSync(path.join(dir, 'ca.pem')),
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onshi-chromium-'));
const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'onshi-terminal-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.ONSHI_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic'],
  viewport: { width: 1024, height: 768 },
  locale: 'ja-JP',
  // The center's certificate comes from the institution CA, which this browser does not know.
  ignoreHTTPSErrors: true,
  acceptDownloads: true,
});
const timings = {};
try {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Refused logins and forms answer 401 and 422 on purpose; the browser logs those, and
  // its own favicon request, as failed loads. Anything else missing is an error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() === 404 && !r.url().endsWith('/favicon.ico')) errors.push(`404 ${r.url()}`);
  });

  // --- Login: the admin pages send an anonymous visitor to the login form.
  await page.goto(`${base}/admin/checks`);
  assert.match(page.url(), /\/admin\/login$/);
  await checkPage(page, 'login');
  await page.fill('#token', 'not-the-token-at-all');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error');
  assert.match(await page.textContent('#login-error'), /正しくありません/);
  assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
  await shot(page, 'login-refused');
  await page.fill('#token', token);
  let t0 = Date.now();
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click('button[type=submit]')]);
  timings.login_ms = Date.now() - t0;
  assert.equal(await page.textContent('h1'), '利用状況');
  const cookies = await context.cookies(`${base}/admin/`);
  const session = cookies.find((c) => c.name === 'onshi_admin');
  assert.ok(session, 'session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.secure, true);
  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');

  // --- Enrol a terminal; its certificate, key and the CA are downloaded as PEM files.
  await page.click('nav >> text=端末');
  await page.waitForURL(/\/admin\/terminals/);
  await checkPage(page, 'terminals');
  await page.fill('#enrol-institution', '12345');
  await page.fill('#enrol-terminal', terminalId);
  await page.click('text=証明書を発行して登録');
  await page.waitForSelector('#form-errors');
  assert.match(await page.textContent('#form-errors'), /10桁/);
  await shot(page, 'enrol-refused');
  await page.fill('#enrol-institution', institution);
  await page.fill('#enrol-terminal', terminalId);
  t0 = Date.now();
  await page.click('text=証明書を発行して登録');
  await page.waitForSelector('#download-key');
  timings.enrol_ms = Date.now() - t0;
  await shot(page, 'enrolled');
  for (const [id, file] of [['#download-cert', 'terminal.crt.pem'], ['#download-key', 'terminal.key.pem'], ['#download-ca', 'ca.pem']]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(id)]);
    assert.equal(download.suggestedFilename(), file);
    await download.saveAs(path.join(downloads, file));
  }
  assert.match(fs.readFileSync(path.join(downloads, 'terminal.key.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  const before = await terminalRequest(downloads);
  assert.equal(before.status, 200, JSON.stringify(before.body));
  assert.ok(before.body.check_id, 'the enrolled terminal is answered');

  // --- Revoke it: its next request over mutual TLS is refused.
  await page.click('text=端末の一覧へ戻る');
  const row = page.locator(`tr[data-terminal="${terminalId}"]`);
  await row.locator('button.danger').click();
  await page.waitForSelector('#notice');
  assert.match(await page.textContent('#notice'), /失効しました/);
  assert.match(await row.textContent(), /失効/);
  await shot(page, 'revoked');
  t0 = Date.now();
  const after = await terminalRequest(downloads);
  timings.refused_after_revoke_ms = Date.now() - t0;
  assert.equal(after.status, 403, JSON.stringify(after.body));
  assert.equal(after.body.code, 'terminal_revoked');

  // --- Institutions and insurers.
  await page.click('nav >> text=医療機関');
  await page.fill('#q', institution);
  await page.click('button:has-text("検索")');
  await page.waitForFunction((code) => document.querySelector('#results tbody tr td')?.textContent === code, institution);
  assert.match(await page.textContent('#results'), /1台／0台|0台／1台/);
  await checkPage(page, 'institutions');
  await page.click('nav >> text=保険者');
  await page.fill('#q', person.insurer_number);
  await page.click('button:has-text("検索")');
  await page.waitForFunction((no) => document.querySelector('#results tbody td')?.textContent === no, person.insurer_number);
  await checkPage(page, 'insurers');
  await shot(page, 'insurers');

  // --- A person's eligibility, by insurance data and by name and birth date.
  await page.click('nav >> text=資格の照会');
  await checkPage(page, 'eligibility');
  await page.fill('#insurer_number', person.insurer_number);
  await page.fill('#symbol', person.symbol || '');
  await page.fill('#number', person.number);
  await page.fill('#branch', person.branch);
  await page.fill('#birth_date', person.birth_date);
  await Promise.all([page.waitForNavigation(), page.click('section:has(#by-insurance) button')]);
  assert.match(await page.textContent('#results .validity'), /有効/);
  assert.ok((await page.textContent('#results')).includes(person.name), 'the holder is shown');
  await shot(page, 'eligibility-insurance');
  await page.fill('#name', person.kana);
  await page.fill('#person_birth_date', person.birth_date);
  await Promise.all([page.waitForNavigation(), page.click('section:has(#by-person) button')]);
  assert.ok((await page.textContent('#results')).includes(person.name), 'found by kana and birth date');
  await shot(page, 'eligibility-person');
  await page.fill('#name', 'ンンンンン');
  await page.fill('#person_birth_date', person.birth_date);
  await Promise.all([page.waitForNavigation(), page.click('section:has(#by-person) button')]);
  assert.match(await page.textContent('#results'), /見つかりませんでした/);

  // --- The log of checks, filtered by institution, method and result.
  await page.click('nav >> text=資格確認の記録');
  await checkPage(page, 'checks');
  await page.fill('#institution', institution);
  await page.selectOption('#method', '6');
  await page.click('#check-filters button');
  await page.waitForURL(/institution=/);
  await page.waitForSelector('#results tbody tr');
  const cells = await page.locator('#results tbody tr td:nth-child(2) .mono').allTextContents();
  assert.ok(cells.length >= 1, 'checks of the institution are listed');
  assert.ok(cells.every((c) => c === institution), `only ${institution}: ${cells}`);
  assert.match(await page.textContent('#results .pager'), /全 \d+ 件/);
  await shot(page, 'checks-filtered');
  await page.selectOption('#validity', '5');
  await page.click('#check-filters button');
  await page.waitForFunction(() => document.querySelector('#results').textContent.includes('条件に合う記録はありません'));
  await page.fill('#from', '2030-01-02');
  await page.fill('#until', '2030-01-01');
  await page.click('#check-filters button');
  await page.waitForSelector('#results #form-errors');
  assert.match(await page.textContent('#results #form-errors'), /開始日が終了日より後/);

  // --- Statistics: checks per day by method and the share of マイナ保険証.
  t0 = Date.now();
  await page.click('nav >> text=利用状況');
  await page.waitForSelector('#daily');
  timings.stats_ms = Date.now() - t0;
  await checkPage(page, 'stats');
  assert.equal(await page.textContent('#national'), '30.64%');
  assert.match(await page.textContent('#total'), /^\d+件$/);
  assert.match(await page.textContent('#share'), /^\d+\.\d\d%$/);
  assert.equal(await page.locator('#daily tbody tr').count(), 30);
  assert.ok(await page.locator('figure.chart svg rect').count() >= 1, 'the chart has bars');
  await shot(page, 'stats');

  // --- The audit log shows what was done here.
  await page.click('nav >> text=操作の記録');
  const audit = await page.textContent('#audit');
  for (const what of ['端末の登録', '端末の失効', '資格の照会（保険証情報）', 'ログイン拒否']) {
    assert.ok(audit.includes(what), `audit log lists ${what}`);
  }
  await page.selectOption('#action', 'admin.terminal');
  await page.click('button:has-text("絞り込む")');
  await page.waitForURL(/action=admin.terminal/);
  assert.equal(await page.locator('#audit tbody tr').count(), 2);
  await shot(page, 'audit');

  // --- Logging out ends the session.
  await page.click('text=ログアウト');
  await page.waitForURL(/\/admin\/login$/);
  await page.goto(`${base}/admin/`);
  assert.match(page.url(), /\/admin\/login$/);

  assert.deepEqual(errors, [], 'no script errors or console errors');
  console.log(JSON.stringify({ ok: true, timings }));
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(downloads, { recursive: true, force: true });
}
