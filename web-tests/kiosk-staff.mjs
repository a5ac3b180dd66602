// A blocked PIN (three wrong entries) → the patient calls staff → staff switch the reader
// to 目視確認モード from the desk and confirm; then a reception that starts in 目視確認モード.
import { launch, openKiosk, openDesk, step, title, alerts, shot, placeCard, enterPin,
  consents, deskRow, expect, includes } from './kiosk-lib.mjs';

const card = process.env.ONSHI_CARD;
const name = process.env.ONSHI_PATIENT_NAME;
const { context, close } = await launch();

async function deskStep(desk, s, visual) {
  await desk.waitForSelector(`#reader .reader-state[data-step="${s}"][data-visual="${visual}"]`);
}

async function staffConfirm(desk) {
  await desk.fill('#staff-id', 'nurse-07');
  await shot(desk, 'desk-confirm');
  await desk.click('#staff-confirm');
}

try {
  const desk = await openDesk(context);
  const kiosk = await openKiosk(context);
  await step(kiosk, 'card');
  await placeCard(kiosk, card);
  await step(kiosk, 'identity');
  await kiosk.click('#screen button:has-text("暗証番号")');
  await step(kiosk, 'pin');
  await enterPin(kiosk, '9999');
  await enterPin(kiosk, '9998');
  includes(await kiosk.textContent('#tries'), '1', 'one try left');
  await enterPin(kiosk, '9997');
  // Blocked: the face is still offered, the PIN is not; the message says what to do.
  await step(kiosk, 'identity');
  const a = await alerts(kiosk);
  expect(a.some((t) => t.includes('ロックされています') && t.includes('市区町村')), `blocked PIN explained: ${a}`);
  expect((await kiosk.$$('#screen button:has-text("暗証番号")')).length === 0, 'no PIN button when blocked');
  await shot(kiosk, 'pin-blocked');

  await kiosk.click('#screen button:has-text("職員を呼ぶ")');
  await step(kiosk, 'staff');
  includes(await title(kiosk), '職員をお呼びください', 'call staff');
  await shot(kiosk, 'call-staff');

  // Staff switch the reader to 目視確認モード and confirm.
  await deskStep(desk, 'staff', 'off');
  await desk.click('#visual-on');
  await deskStep(desk, 'staff', 'on');
  await kiosk.waitForFunction(() => document.querySelector('#screen h1').textContent.includes('職員が顔写真とご本人を確認します'));
  await shot(kiosk, 'visual-wait');
  await staffConfirm(desk);
  await consents(kiosk, []);
  await step(kiosk, 'done');
  includes(await kiosk.textContent('#screen .result'), '職員による確認', 'method visual');
  await deskRow(desk, [name, '目視確認']);
  await kiosk.click('#screen button:has-text("終了")');
  await step(kiosk, 'card');

  // 目視確認モード still on: the next card goes straight to staff.
  await placeCard(kiosk, card);
  await step(kiosk, 'staff');
  includes(await title(kiosk), '職員が顔写真とご本人を確認します', 'visual mode from the start');
  await deskStep(desk, 'staff', 'on');
  await staffConfirm(desk);
  await consents(kiosk, [1, 2, 3, 4, 5]);
  await step(kiosk, 'done');
  const rows = await desk.$$eval('#receptions tr', (r) => r.filter((tr) => tr.textContent.includes('目視確認')).length);
  expect(rows >= 1, 'visual receptions on the desk');
  await desk.waitForFunction(() => Array.from(document.querySelectorAll('#receptions tr'))
    .filter((tr) => tr.textContent.includes('目視確認')).length >= 2);
  await shot(desk, 'desk-visual');
  await kiosk.click('#screen button:has-text("終了")');
  await step(kiosk, 'card');

  // Switched off again: the next card asks for face or PIN.
  await desk.click('#visual-off');
  await deskStep(desk, 'card', 'off');
  await placeCard(kiosk, card);
  await step(kiosk, 'identity');
  await kiosk.click('#screen button:has-text("職員を呼ぶ")');
  await step(kiosk, 'staff');
  includes(await title(kiosk), '職員をお呼びください', 'mode off again');
  console.log(JSON.stringify({ ok: true }));
} finally {
  await close();
}
