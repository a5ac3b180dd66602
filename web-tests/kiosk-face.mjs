// Face recognition with Chromium's fake camera: ONSHI_FACE=match plays the card holder's
// face (the reception completes by face); ONSHI_FACE=refuse plays another person's face
// (refused twice, then the PIN, as the reader's state machine falls back).
import { launch, openKiosk, openDesk, step, title, alerts, shot, placeCard, enterPin,
  consents, deskRow, expect, includes } from './kiosk-lib.mjs';

const card = process.env.ONSHI_CARD;
const name = process.env.ONSHI_PATIENT_NAME;
const mode = process.env.ONSHI_FACE;
const { context, close } = await launch({ camera: process.env.ONSHI_CAMERA });
try {
  const desk = await openDesk(context);
  const kiosk = await openKiosk(context);
  await step(kiosk, 'card');
  await placeCard(kiosk, card);
  await step(kiosk, 'identity');
  await kiosk.click('#screen button:has-text("顔認証")');
  await step(kiosk, 'face');
  await kiosk.waitForFunction(() => {
    const v = document.getElementById('camera');
    return v && v.videoWidth > 0;
  });
  await shot(kiosk, 'face-camera');
  if (mode === 'match') {
    await step(kiosk, 'consent', 60000);
    await consents(kiosk, [3]);
    await step(kiosk, 'done');
    const result = await kiosk.textContent('#screen .result');
    includes(result, name, 'the patient on the result');
    includes(result, '顔認証', 'method face');
    await shot(kiosk, 'done-face');
    await deskRow(desk, [name, '顔認証']);
    await shot(desk, 'desk-face');
  } else {
    // First refusal: still the camera, with a plain message.
    await kiosk.waitForFunction(() => Array.from(document.querySelectorAll('#screen .alert'))
      .some((a) => a.textContent.includes('顔認証ができませんでした')), null, { timeout: 60000 });
    expect(await kiosk.getAttribute('#screen [data-step]', 'data-step') === 'face', 'a second try');
    await shot(kiosk, 'face-refused');
    // Second refusal: the PIN.
    await step(kiosk, 'pin', 60000);
    const a = await alerts(kiosk);
    expect(a.some((t) => t.includes('暗証番号による確認に切り替えます')), `falls back to the PIN: ${a}`);
    await shot(kiosk, 'face-to-pin');
    await enterPin(kiosk, '1234');
    await consents(kiosk, [1]);
    await step(kiosk, 'done');
    includes(await kiosk.textContent('#screen .result'), '暗証番号', 'method PIN after the face');
    await deskRow(desk, [name, '暗証番号']);
  }
  await kiosk.click('#screen button:has-text("終了")');
  await step(kiosk, 'card');
  console.log(JSON.stringify({ ok: true, mode }));
} finally {
  await close();
}
