// A whole reception by PIN in the browser, with the desk open beside it: the phone
// choice and back, the language toggle, a wrong PIN, five consent screens, the result, and the
// new reception appearing on the desk live with its consented history.
import { launch, openKiosk, openDesk, step, title, alerts, shot, placeCard, enterPin,
  consents, checkLayout, deskRow, expect, includes } from './kiosk-lib.mjs';

const card = process.env.ONSHI_CARD;
const name = process.env.ONSHI_PATIENT_NAME;
const { context, close } = await launch();
try {
  const desk = await openDesk(context);
  const kiosk = await openKiosk(context);
  await step(kiosk, 'card');
  includes(await title(kiosk), 'マイナンバーカードを置いてください', 'start screen');
  await checkLayout(kiosk);
  await shot(kiosk, 'start');

  // English on the toggle, and back.
  await kiosk.click('#screen button.lang[lang="en"]');
  await kiosk.waitForFunction(() => document.querySelector('#screen [data-step]').dataset.lang === 'en');
  includes(await title(kiosk), 'Please place your My Number Card', 'English start screen');
  expect(await kiosk.evaluate(() => document.documentElement.lang) === 'en', 'html lang follows');
  await shot(kiosk, 'start-en');
  await kiosk.click('#screen button.lang[lang="ja"]');
  await kiosk.waitForFunction(() => document.querySelector('#screen [data-step]').dataset.lang === 'ja');

  // The smartphone path: iPhone / Android, then back to the card before holding a phone.
  await kiosk.click('#screen button:has-text("スマートフォンを利用")');
  await step(kiosk, 'phone');
  await shot(kiosk, 'phone-choice');
  await kiosk.click('#screen button:has-text("iPhone")');
  await step(kiosk, 'phone-hold');
  includes(await title(kiosk), 'iPhoneをスマートフォン用のカードリーダーにかざしてください', 'hold the phone');
  await kiosk.click('#screen button:has-text("戻る（カードで受付）")');
  await step(kiosk, 'card');

  await placeCard(kiosk, card);
  await step(kiosk, 'identity');
  await checkLayout(kiosk);
  await shot(kiosk, 'identity');
  await kiosk.click('#screen button:has-text("暗証番号")');
  await step(kiosk, 'pin');
  includes(await kiosk.textContent('#tries'), '3', 'three tries');
  await checkLayout(kiosk);
  await shot(kiosk, 'pin');

  await enterPin(kiosk, '9999');
  await step(kiosk, 'pin');
  const wrong = await alerts(kiosk);
  expect(wrong.some((a) => a.includes('暗証番号が違います') && a.includes('あと2回')), `wrong PIN said plainly: ${wrong}`);
  includes(await kiosk.textContent('#tries'), '2', 'two tries left');
  await shot(kiosk, 'pin-wrong');

  await enterPin(kiosk, '1234');
  await consents(kiosk, [1, 2]);
  await step(kiosk, 'done');
  includes(await title(kiosk), '受付が完了しました', 'result');
  const result = await kiosk.textContent('#screen .result');
  includes(result, name, 'the patient name on the result');
  includes(result, '確認できました', 'insurance confirmed');
  includes(result, '暗証番号', 'method');
  includes(result, '薬剤情報', 'consents listed');
  await shot(kiosk, 'done');

  // The desk shows it without a reload.
  const row = await deskRow(desk, [name, '有効', '暗証番号']);
  await shot(desk, 'desk-live');
  await row.locator('button.details').click();
  await desk.waitForSelector('#detail table.medications tbody tr');
  if (Number(process.env.ONSHI_EXPECT_CHECKUPS) > 1) {
    await desk.waitForSelector('#detail .charts svg circle', { state: 'attached' });
  }
  const meds = await desk.$$eval('#detail table.medications tbody tr', (r) => r.length);
  expect(meds === Number(process.env.ONSHI_EXPECT_MEDICATIONS), `every medication row (${meds} vs ${process.env.ONSHI_EXPECT_MEDICATIONS})`);
  const checkups = await desk.$$eval('#detail table.checkups tbody tr', (r) => r.length);
  expect(checkups === Number(process.env.ONSHI_EXPECT_CHECKUPS), `every check-up row (${checkups})`);
  expect((await desk.$$('#detail table.diagnoses')).length === 0, 'no diagnoses without consent');
  await shot(desk, 'desk-history');

  await kiosk.click('#screen button:has-text("終了")');
  await step(kiosk, 'card');

  // The desk checks a 資格確認書 by its printed data: a typo is said in Japanese, then the
  // right data gives 有効 and a row with the method 資格確認書.
  const doc = JSON.parse(process.env.ONSHI_LOOKUP);
  await desk.fill('input[name="insurer_number"]', '12');
  await desk.fill('input[name="symbol"]', doc.symbol);
  await desk.fill('input[name="number"]', doc.number);
  await desk.fill('input[name="branch"]', doc.branch);
  await desk.fill('input[name="birth_date"]', doc.birth_date);
  await desk.click('form.lookup button[type="submit"]');
  await desk.waitForSelector('#lookup-result .alert');
  includes(await desk.textContent('#lookup-result .alert'), '保険者番号', 'the faulty field named');
  await desk.fill('input[name="insurer_number"]', doc.insurer_number);
  await desk.click('form.lookup button[type="submit"]');
  await desk.waitForSelector('#lookup-result .lookup-result');
  const found = await desk.textContent('#lookup-result .lookup-result');
  includes(found, '有効', 'the 資格確認書 is valid');
  includes(found, name, 'and names the patient');
  await deskRow(desk, [name, '資格確認書']);
  await shot(desk, 'desk-lookup');
  console.log(JSON.stringify({ ok: true, medications: meds, checkups }));
} finally {
  await close();
}
