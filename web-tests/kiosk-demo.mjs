// What a newcomer does with `onshi demo`: open the printed kiosk URL, place the first demo
// patient's card with the simulation panel, confirm with PIN 1234, answer the consent screens, and
// see the reception on the printed desk URL.
import { launch, openKiosk, openDesk, step, title, shot, enterPin, consents, deskRow,
  includes } from './kiosk-lib.mjs';

const { context, close } = await launch();
try {
  const desk = await openDesk(context);
  const kiosk = await openKiosk(context);
  await step(kiosk, 'card');
  const button = kiosk.locator('button.sim-place[data-card="patient-1.card"]');
  const label = await button.textContent();
  const holder = label.split('（')[0].trim();
  await button.click();
  await step(kiosk, 'identity');
  await kiosk.click('#screen button:has-text("暗証番号")');
  await step(kiosk, 'pin');
  await enterPin(kiosk, '1234');
  await consents(kiosk, [1, 2, 3, 4, 5]);
  await step(kiosk, 'done');
  includes(await title(kiosk), '受付が完了しました', 'the demo reception completes');
  includes(await kiosk.textContent('#screen .result'), holder, 'the card holder on the result');
  await shot(kiosk, 'demo-done');
  await deskRow(desk, [holder, '有効', '暗証番号']);
  await shot(desk, 'demo-desk');
  console.log(JSON.stringify({ ok: true, holder }));
} finally {
  await close();
}
