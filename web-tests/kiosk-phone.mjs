// The smartphone reception in the browser: the patient chooses Android or iPhone, the
// simulation panel holds a set-up virtual phone to the general-purpose reader. Android:
// a wrong phone PIN on the kiosk's pad (tries left), then the right one, relayed to the
// phone. iPhone: the kiosk sends the patient to the phone's Face ID, which fails once and
// then passes, and the phone's record is read and verified. Then the consent screens, the
// result with the phone method, and the desk's row. Also: a phone never set up, and the
// Android phone suspended from the portal.
import { launch, openKiosk, openDesk, step, title, alerts, shot, enterPin, consents,
  checkLayout, deskRow, expect, includes } from './kiosk-lib.mjs';

const android = process.env.ONSHI_ANDROID;
const androidName = process.env.ONSHI_ANDROID_NAME;
const iphone = process.env.ONSHI_IPHONE;
const iphoneName = process.env.ONSHI_IPHONE_NAME;
const blank = process.env.ONSHI_BLANK_PHONE;
const phonePin = process.env.ONSHI_PHONE_PIN;
const part = process.env.ONSHI_PART || 'receptions';

/** Waits for a new screen after `action`. */
async function next(page, action) {
  const before = await page.getAttribute('#screen [data-step]', 'data-seq');
  await action();
  await page.waitForFunction((seq) => {
    const s = document.querySelector('#screen [data-step]');
    return s && s.dataset.seq !== seq;
  }, before);
}

/** スマートフォンを利用 → `platform` → the phone file held to the reader. */
async function holdPhone(kiosk, platform, file, label) {
  await step(kiosk, 'card');
  await kiosk.click('#screen button:has-text("スマートフォンを利用")');
  await step(kiosk, 'phone');
  await kiosk.click(`#screen button:has-text("${platform}")`);
  await step(kiosk, 'phone-hold');
  includes(await title(kiosk), `${platform}をスマートフォン用のカードリーダーにかざしてください`, 'hold the phone');
  await checkLayout(kiosk);
  await shot(kiosk, `${label}-hold`);
  await next(kiosk, () => kiosk.click(`button.sim-phone[data-phone="${file}"]`));
}

const { context, close } = await launch();
let kiosk = null;
try {
  const desk = await openDesk(context);
  kiosk = await openKiosk(context);

  if (part === 'receptions') {
    // Android: the phone PIN on the kiosk's pad, one wrong entry first.
    await holdPhone(kiosk, 'Android', android, 'android');
    await step(kiosk, 'phone-pin');
    includes(await title(kiosk), 'スマホ用電子証明書の暗証番号', 'asks for the phone PIN');
    const tries = Number((await kiosk.textContent('#tries strong')).trim());
    expect(tries >= 2, `tries left shown (${tries})`);
    await checkLayout(kiosk);
    await shot(kiosk, 'android-pin');
    await enterPin(kiosk, phonePin === '0000' ? '1111' : '0000');
    await step(kiosk, 'phone-pin');
    const wrong = await alerts(kiosk);
    expect(wrong.some((a) => a.includes('暗証番号が違います') && a.includes(`あと${tries - 1}回`)),
      `wrong phone PIN said plainly with the tries left: ${wrong}`);
    includes(await kiosk.textContent('#tries strong'), String(tries - 1), 'one try fewer');
    await shot(kiosk, 'android-pin-wrong');
    await enterPin(kiosk, phonePin);
    await consents(kiosk, [1, 2]);
    await step(kiosk, 'done');
    includes(await title(kiosk), '受付が完了しました', 'Android result');
    let result = await kiosk.textContent('#screen .result');
    includes(result, androidName, 'the patient name on the result');
    includes(result, '確認できました', 'insurance confirmed');
    includes(result, 'スマートフォン（Android・暗証番号）', 'the phone method');
    includes(result, '薬剤情報', 'consents listed');
    await shot(kiosk, 'android-done');
    await deskRow(desk, [androidName, '有効', 'スマートフォン']);
    await shot(desk, 'android-desk');
    await kiosk.click('#screen button:has-text("終了")');

    // iPhone: Face ID fails once on the phone, then passes; the record is verified.
    await holdPhone(kiosk, 'iPhone', iphone, 'iphone');
    await step(kiosk, 'biometric');
    includes(await title(kiosk), 'Face ID', 'sends the patient to Face ID');
    includes(await kiosk.textContent('#biometric-hint'), 'iPhone の画面を見て', 'look at the phone');
    await checkLayout(kiosk);
    await shot(kiosk, 'iphone-face-id');
    await next(kiosk, () => kiosk.click('button.sim-biometric-mismatch'));
    await step(kiosk, 'biometric');
    const failed = await alerts(kiosk);
    expect(failed.some((a) => a.includes('Face ID／Touch ID による認証ができませんでした') && a.includes('残り2回')),
      `failed Face ID said plainly: ${failed}`);
    await shot(kiosk, 'iphone-face-id-failed');
    await next(kiosk, () => kiosk.click('button.sim-biometric-match'));
    await consents(kiosk, [1]);
    await step(kiosk, 'done');
    result = await kiosk.textContent('#screen .result');
    includes(result, iphoneName, 'the patient name on the result');
    includes(result, '確認できました', 'insurance confirmed');
    includes(result, 'スマートフォン（iPhone・生体認証）', 'the phone method');
    await shot(kiosk, 'iphone-done');
    await deskRow(desk, [iphoneName, '有効', 'スマートフォン']);
    await kiosk.click('#screen button:has-text("終了")');

    // A phone never set up: the plain next step, then back to the start.
    await holdPhone(kiosk, 'Android', blank, 'blank');
    await step(kiosk, 'phone-pin');
    await enterPin(kiosk, phonePin);
    await step(kiosk, 'failed');
    const none = await alerts(kiosk);
    expect(none.some((a) => a.includes('登録されていません') && a.includes('マイナンバーカードで受付')),
      `unsupported phone said plainly: ${none}`);
    await shot(kiosk, 'blank-failed');
    await kiosk.click('#screen button:has-text("最初に戻る")');
    await step(kiosk, 'card');
  } else {
    // The Android phone, suspended from the portal: refused after the PIN, with the way on.
    await holdPhone(kiosk, 'Android', android, 'suspended');
    await step(kiosk, 'phone-pin');
    await enterPin(kiosk, phonePin);
    await consents(kiosk, []);
    await step(kiosk, 'failed');
    const s = await alerts(kiosk);
    expect(s.some((a) => a.includes('一時停止中') && a.includes('マイナンバーカードで受付')),
      `suspended phone said plainly: ${s}`);
    await shot(kiosk, 'suspended-failed');
    await deskRow(desk, ['スマートフォン', '一時停止中']);
    await kiosk.click('#screen button:has-text("最初に戻る")');
    await step(kiosk, 'card');
  }
  console.log(JSON.stringify({ ok: true, part }));
} catch (e) {
  // What the kiosk showed when it went wrong.
  if (kiosk) {
    console.error(`kiosk screen: ${await kiosk.innerText('#screen').catch(() => '?')}`);
    await shot(kiosk, 'error').catch(() => {});
  }
  throw e;
} finally {
  await close();
}
