//! Every transition of the reception, with the in-process virtual card and a fake center
//! that checks what a real one checks (single-use challenges, the certificate chain, the
//! card's signature over the exact message).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use onshi_card::layout::PinRef;
use onshi_card::{CardFile, CardPins, IssueOptions, Person, Pin, Sex, VirtualCard};
use onshi_face::{
    ClassicMatcher, Decision, FaceBox, FaceError, FaceImage, FaceMatcher, ImageFormat, MatchOutcome,
};
use onshi_model::{ConsentKind, InstitutionCode, MyNumber, Qualification, QualificationValidity};
use serde_json::{Value, json};

use super::*;
use crate::center::{CenterError, ProblemCode};
use crate::wire::{CardCheck, CardCheckRequest, Challenge, LinkRequest, Linked, Problem};

const PIN: &str = "1234";
const FACE_SEED: u64 = 7;
const INSTITUTION: &str = "0110113719";

struct Fixture {
    card: CardFile,
    card_data_spki: Vec<u8>,
    trust: onshi_pki::TrustStore,
    now: DateTime<Utc>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now() - Duration::minutes(1);
        let mut jlis = onshi_pki::Jlis::load_or_create(dir.path(), now, None).unwrap();
        let key = onshi_card::card_data_key(dir.path()).unwrap();
        let photo = onshi_face::render_card_photo(FACE_SEED)
            .encode(ImageFormat::Jpeg { quality: 85 })
            .unwrap();
        let card = onshi_card::issue_card(
            &mut jlis,
            key.as_ref(),
            &Person {
                name: "診療　花子".into(),
                name_kana: "シンリョウ　ハナコ".into(),
                address: "東京都千代田区霞が関１－２－２".into(),
                birth_date: NaiveDate::from_ymd_opt(1985, 7, 1).unwrap(),
                sex: Sex::Female,
                my_number: MyNumber::from_payload(12_345_678_901).unwrap(),
            },
            &CardPins {
                auth: Pin::from(PIN),
                sign: Some(Pin::from("ABC123")),
                input_support: Pin::from(PIN),
            },
            &IssueOptions {
                issued_at: now,
                face_photo: photo,
                security_code: Some("0042".into()),
            },
        )
        .unwrap();
        let trust = jlis.trust_store(onshi_pki::TrustPolicy::default()).unwrap();
        Fixture {
            card,
            card_data_spki: key.public_key_spki().to_vec(),
            trust,
            now,
        }
    })
}

fn card() -> VirtualCard {
    VirtualCard::new(fixture().card.clone())
}

fn card_with_tries(tries: u8) -> VirtualCard {
    let mut file = fixture().card.clone();
    file.pin_record_mut(PinRef::Auth).unwrap().tries_left = tries;
    VirtualCard::new(file)
}

fn code_b() -> Pin {
    Pin::new(fixture().card.printed.matching_number_b())
}

fn record(reason_of_loss: Option<&str>, lost_on: Option<&str>) -> Qualification {
    let mut v = json!({
        "card_classification": "01", "insurer_number": "06130017", "insurer_name": "テスト健康保険組合",
        "symbol": "1234", "number": "567", "branch": "00", "personal_family": "1",
        "insured_name": "診療　花子", "name": "診療　花子", "name_kana": "ｼﾝﾘｮｳ ﾊﾅｺ",
        "sex1": "2", "birth_date": "1985-07-01", "address": "東京都千代田区霞が関１－２－２",
        "qualification_date": "2020-04-01", "limit_consent": "0"
    });
    if let Some(r) = reason_of_loss {
        v["reason_of_loss"] = json!(r);
    }
    if let Some(d) = lost_on {
        v["disqualification_date"] = json!(d);
    }
    serde_json::from_value(v).unwrap()
}

/// What the fake center does with the next eligibility request.
#[derive(Debug, Clone)]
enum Answer {
    Result(QualificationValidity, Vec<Qualification>),
    Refuse(u16, &'static str),
}

#[derive(Debug)]
struct FakeCenter {
    challenges: HashMap<Vec<u8>, DateTime<Utc>>,
    counter: u8,
    linked: bool,
    unreachable: bool,
    answer: Answer,
    /// Codes to answer the next eligibility requests with, before `answer`.
    refuse_next: VecDeque<&'static str>,
    requests: Vec<Value>,
    links: Vec<Value>,
}

impl FakeCenter {
    fn new() -> Self {
        Self {
            challenges: HashMap::new(),
            counter: 0,
            linked: true,
            unreachable: false,
            answer: Answer::Result(QualificationValidity::Valid, vec![record(None, None)]),
            refuse_next: VecDeque::new(),
            requests: Vec::new(),
            links: Vec::new(),
        }
    }

    fn refuse(status: u16, code: &str) -> CenterError {
        CenterError::Refused {
            status,
            code: ProblemCode::parse(code),
            problem: Box::new(Problem {
                kind: format!("urn:onshi:problem:{code}"),
                title: code.into(),
                status,
                code: code.into(),
                message_ja: String::new(),
                detail: String::new(),
                field: None,
            }),
        }
    }

    /// What a center checks of the card's proof: a known unused challenge, the
    /// certificate chain, and for the PIN path the signature over the exact message.
    fn check_proof(
        &mut self,
        certificate: &[u8],
        challenge: &[u8],
        signed_at: &str,
        signature: Option<&[u8]>,
    ) -> Result<(), CenterError> {
        match self.challenges.remove(challenge) {
            None => return Err(Self::refuse(400, "challenge_unknown")),
            Some(exp) if exp <= Utc::now() => return Err(Self::refuse(400, "challenge_expired")),
            Some(_) => {}
        }
        let cert = fixture()
            .trust
            .verify_kind(certificate, Utc::now(), &[onshi_pki::CertKind::CardAuth])
            .map_err(|_| Self::refuse(401, "certificate_invalid"))?;
        if let Some(sig) = signature {
            let mut message = challenge.to_vec();
            message.extend_from_slice(INSTITUTION.as_bytes());
            message.extend_from_slice(signed_at.as_bytes());
            cert.verify_signature(&message, sig)
                .map_err(|_| Self::refuse(401, "signature_invalid"))?;
        }
        Ok(())
    }
}

impl Center for FakeCenter {
    fn challenge(&mut self) -> Result<Challenge, CenterError> {
        if self.unreachable {
            return Err(CenterError::Unreachable {
                reason: "connection refused".into(),
            });
        }
        self.counter += 1;
        let bytes = vec![self.counter; 32];
        let expires_at = Utc::now() + Duration::seconds(120);
        self.challenges.insert(bytes.clone(), expires_at);
        Ok(Challenge { bytes, expires_at })
    }

    fn check_card(&mut self, request: &CardCheckRequest) -> Result<CardCheck, CenterError> {
        let body = serde_json::to_value(request).unwrap();
        self.requests.push(body.clone());
        if let Some(code) = self.refuse_next.pop_front() {
            return Err(Self::refuse(400, code));
        }
        assert_eq!(body["institution_code"], INSTITUTION);
        self.check_proof(
            &request.certificate,
            &request.challenge,
            request.signed_at.as_str(),
            request.signature.as_deref(),
        )?;
        if !self.linked {
            return Err(Self::refuse(409, "card_not_linked"));
        }
        match self.answer.clone() {
            Answer::Refuse(status, code) => Err(Self::refuse(status, code)),
            Answer::Result(validity, records) => Ok(CardCheck {
                check_id: format!("c{}", self.requests.len()),
                reception_id: format!("r{}", self.requests.len()),
                reference: onshi_model::ReferenceClassification::MyNumberCard,
                validity,
                processed_at: Utc::now().naive_utc(),
                as_of: NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
                records,
                history_until: None,
                next_challenge: None,
            }),
        }
    }

    fn link_card(&mut self, request: &LinkRequest) -> Result<Linked, CenterError> {
        self.links.push(serde_json::to_value(request).unwrap());
        self.check_proof(
            &request.certificate,
            &request.challenge,
            request.signed_at.as_str(),
            Some(&request.signature),
        )?;
        self.linked = true;
        Ok(Linked {
            linked_on: NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
        })
    }
}

/// A matcher that answers a script of decisions (the classic matcher has its own test).
struct Scripted(Mutex<VecDeque<Decision>>);

impl FaceMatcher for Scripted {
    fn compare(&self, _: &FaceImage, _: &FaceImage) -> Result<MatchOutcome, FaceError> {
        let decision = self
            .0
            .lock()
            .unwrap()
            .pop_front()
            .expect("scripted decision");
        let b = FaceBox {
            x: 0,
            y: 0,
            width: 10,
            height: 10,
            score: 3.0,
        };
        Ok(MatchOutcome {
            score: (decision != Decision::NoFaceInProbe).then_some(match decision {
                Decision::Match => 0.9,
                _ => 0.5,
            }),
            threshold: 0.81,
            decision,
            probe_face: (decision != Decision::NoFaceInProbe).then_some(b),
            enrolled_face: b,
        })
    }
}

type R = Reception<VirtualCard, FakeCenter>;

fn reader_with(center: FakeCenter, matcher: Box<dyn FaceMatcher>) -> Reader<FakeCenter> {
    Reader::new(
        center,
        ReaderConfig {
            institution: InstitutionCode::parse(INSTITUTION).unwrap(),
            card_data_key: fixture().card_data_spki.clone(),
            face_attempts: DEFAULT_FACE_ATTEMPTS,
            lang: crate::Lang::Ja,
            as_of: None,
        },
        matcher,
        "scripted",
    )
    .with_clock(Box::new(|| fixture().now + Duration::minutes(1)))
}

fn reader(center: FakeCenter) -> Reader<FakeCenter> {
    reader_with(center, Box::new(Scripted(Mutex::new(VecDeque::new()))))
}

fn scripted(center: FakeCenter, decisions: &[Decision]) -> Reader<FakeCenter> {
    reader_with(
        center,
        Box::new(Scripted(Mutex::new(decisions.iter().copied().collect()))),
    )
}

fn frame() -> FaceImage {
    FaceImage::from_rgb8(64, 48, vec![128; 64 * 48 * 3]).unwrap()
}

macro_rules! expect {
    ($state:expr, $variant:ident) => {
        match $state {
            Reception::$variant(s) => s,
            other => panic!(
                "expected {}, got {}: {:?}",
                stringify!($variant),
                other.name(),
                other.messages()
            ),
        }
    };
}

fn placed(reader: Reader<FakeCenter>, card: VirtualCard) -> R {
    reader.start().card_placed(card)
}

fn done_center(r: R) -> (Done<FakeCenter>, FakeCenter) {
    let done = expect!(r, Done);
    let reader = done.reader;
    let done = Done {
        reader: reader_with_center_taken(),
        ..done
    };
    (done, reader.center)
}

/// A throwaway reader to take the center out of a finished reception.
fn reader_with_center_taken() -> Reader<FakeCenter> {
    reader(FakeCenter::new())
}

fn center_of(r: R) -> FakeCenter {
    r.into_reader().expect("reception over").center
}

#[test]
fn pin_path_signs_the_exact_message_and_sends_the_consents() {
    let r = placed(reader(FakeCenter::new()), card());
    let id = expect!(r, ExpectIdentity);
    assert_eq!(id.prompt(), Message::ChooseMethod);
    assert!(id.face_offered() && id.pin_offered());
    let pin = expect!(id.pin(), ExpectPin);
    assert_eq!(pin.tries_left, 3);
    let mut c = expect!(pin.enter(Pin::from(PIN)), ExpectConsent);
    assert_eq!(c.method(), Method::Pin);
    // One screen per kind, in table order.
    for (i, kind) in ConsentKind::ALL.iter().enumerate() {
        assert_eq!(c.kind(), *kind);
        assert_eq!(c.prompt(), Message::Consent(*kind));
        let next = c.answer(i % 2 == 0);
        if i + 1 == ConsentKind::ALL.len() {
            let (done, center) = done_center(next);
            assert_eq!(done.method, Method::Pin);
            assert_eq!(
                done.consents,
                [
                    ConsentKind::Medication,
                    ConsentKind::Diagnoses,
                    ConsentKind::CostCeiling
                ]
            );
            assert_eq!(done.notices, []);
            assert_eq!(done.check.validity, QualificationValidity::Valid);
            let body = &center.requests[0];
            assert_eq!(body["method"], "pin");
            assert_eq!(
                body["consents"],
                json!(["medication", "diagnoses", "cost_ceiling"])
            );
            assert!(body.get("face").is_none() && body.get("visual").is_none());
            assert_eq!(body["signed_at"].as_str().unwrap().len(), 14);
            return;
        }
        c = expect!(next, ExpectConsent);
    }
}

#[test]
fn wrong_pin_shows_tries_left_then_blocks_and_offers_face_or_staff() {
    let r = placed(reader(FakeCenter::new()), card());
    let pin = expect!(expect!(r, ExpectIdentity).pin(), ExpectPin);
    let pin = expect!(pin.enter(Pin::from("9999")), ExpectPin);
    assert_eq!(pin.tries_left, 2);
    assert_eq!(pin.notice, Some(Message::WrongPin { tries_left: 2 }));
    let r = Reception::ExpectPin(pin);
    let shown = r.messages();
    assert_eq!(
        shown,
        [
            Message::WrongPin { tries_left: 2 },
            Message::EnterPin { tries_left: 2 }
        ]
    );
    assert!(shown[0].text(Lang::Ja).contains("あと2回"));
    let pin = expect!(r, ExpectPin);
    // A typing slip spends nothing.
    let pin = expect!(pin.enter(Pin::from("12a")), ExpectPin);
    assert_eq!(pin.notice, Some(Message::PinFormat));
    assert_eq!(pin.tries_left, 2);
    let pin = expect!(pin.enter(Pin::from("9999")), ExpectPin);
    assert_eq!(pin.tries_left, 1);
    let id = expect!(pin.enter(Pin::from("9999")), ExpectIdentity);
    assert_eq!(id.notice, Some(Message::PinBlocked));
    assert!(!id.pin_offered() && id.face_offered());
    assert!(Message::PinBlocked.text(Lang::Ja).contains(
        "暗証番号がロックされています。お住まいの市区町村の窓口で暗証番号の再設定を行ってください。"
    ));
    // Choosing the PIN again keeps refusing; staff remain.
    let id = expect!(id.pin(), ExpectIdentity);
    let staff = expect!(id.staff(), ExpectStaff);
    assert_eq!(staff.prompt(), Message::SwitchToVisualMode);
}

#[test]
fn blocked_pin_without_face_goes_to_staff() {
    let r = placed(scripted(FakeCenter::new(), &[]), card_with_tries(0));
    let id = expect!(r, ExpectIdentity);
    let id = expect!(id.pin(), ExpectIdentity);
    assert_eq!(id.notice, Some(Message::PinBlocked));
    // Face unusable (wrong key configured): straight to staff.
    let mut id = id;
    id.session.reader.config.card_data_key = fixture().card.jpki.auth_cert.clone();
    let staff = expect!(id.face(code_b()), ExpectStaff);
    assert_eq!(staff.notice, Some(Message::FaceUnavailable));
}

#[test]
fn face_match_sends_evidence_without_signature() {
    let r = placed(scripted(FakeCenter::new(), &[Decision::Match]), card());
    let face = expect!(expect!(r, ExpectIdentity).face(code_b()), ExpectFace);
    assert_eq!(face.attempts_left, 2);
    assert_eq!(face.photo().width(), onshi_face::CARD_PHOTO_SIZE.0);
    let c = expect!(face.frame(&frame()), ExpectConsent);
    assert_eq!(c.method(), Method::Face);
    let (done, center) = done_center(c.answer_all(&[ConsentKind::Medication]));
    assert_eq!(done.method, Method::Face);
    let body = &center.requests[0];
    assert_eq!(body["method"], "face");
    assert!(body.get("signature").is_none());
    let face = &body["face"];
    assert_eq!(face["matcher"], "scripted");
    assert!((face["score"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert!((face["threshold"].as_f64().unwrap() - 0.81).abs() < 1e-6);
    // The hash is of the card-face EF as the card holds it.
    let ef = onshi_card::CardFace::encode_ef(&fixture().card.card_face);
    assert_eq!(
        face["card_face_sha256"],
        crate::wire::hex(&onshi_card::onsign::sha256(&ef))
    );
    assert_eq!(body["consents"], json!(["medication"]));
}

#[test]
fn face_evidence_the_center_refuses_falls_back_to_pin() {
    let mut center = FakeCenter::new();
    center.answer = Answer::Refuse(403, "face_evidence_insufficient");
    let r = placed(scripted(center, &[Decision::Match]), card());
    let face = expect!(expect!(r, ExpectIdentity).face(code_b()), ExpectFace);
    let c = expect!(face.frame(&frame()), ExpectConsent);
    let pin = expect!(c.answer_all(&[]), ExpectPin);
    assert_eq!(
        pin.notice,
        Some(Message::FaceNotMatched { attempts_left: 0 })
    );
    let id = expect!(pin.cancel(), ExpectIdentity);
    assert!(!id.face_offered());
}

#[test]
fn face_not_found_then_not_matched_falls_back_to_pin_then_staff() {
    let r = placed(
        scripted(
            FakeCenter::new(),
            &[Decision::NoFaceInProbe, Decision::NoMatch],
        ),
        card_with_tries(1),
    );
    let face = expect!(expect!(r, ExpectIdentity).face(code_b()), ExpectFace);
    let face = expect!(face.frame(&frame()), ExpectFace);
    assert_eq!(
        face.notice,
        Some(Message::FaceNotFound { attempts_left: 1 })
    );
    assert!(
        Message::FaceNotFound { attempts_left: 1 }
            .text(Lang::Ja)
            .contains("もう一度")
    );
    let pin = expect!(face.frame(&frame()), ExpectPin);
    assert_eq!(
        pin.notice,
        Some(Message::FaceNotMatched { attempts_left: 0 })
    );
    assert!(
        Message::FaceNotMatched { attempts_left: 0 }
            .text(Lang::Ja)
            .contains("暗証番号")
    );
    assert_eq!(pin.tries_left, 1);
    let staff = expect!(pin.enter(Pin::from("0000")), ExpectStaff);
    assert_eq!(staff.notice, Some(Message::PinBlocked));
    assert!(staff.card_photo().is_some());
}

#[test]
fn wrong_matching_code_keeps_the_face_ap_locked() {
    let r = placed(scripted(FakeCenter::new(), &[]), card());
    let id = expect!(
        expect!(r, ExpectIdentity).face(Pin::from("00000000000000")),
        ExpectIdentity
    );
    assert_eq!(id.notice, Some(Message::CardUnreadable));
    assert!(id.face_offered());
}

#[test]
fn card_face_signed_by_another_key_is_not_used() {
    let mut r = reader(FakeCenter::new());
    r.config.card_data_key = fixture().card.jpki.auth_ca_cert.clone();
    let id = expect!(placed(r, card()), ExpectIdentity);
    let pin = expect!(id.face(code_b()), ExpectPin);
    assert_eq!(pin.notice, Some(Message::FaceUnavailable));
}

#[test]
fn visual_mode_is_explicit_and_records_the_staff_id() {
    let mut rd = reader(FakeCenter::new());
    rd.set_visual_mode(true);
    let staff = expect!(placed(rd, card()), ExpectStaff);
    assert_eq!(staff.prompt(), Message::StaffConfirm);
    let staff = expect!(staff.confirm("  "), ExpectStaff);
    let c = expect!(staff.confirm("nurse-07"), ExpectConsent);
    let done = expect!(c.answer_all(&[]), Done);
    assert_eq!(done.method, Method::Visual);
    assert!(done.reader.visual_mode(), "stays on until switched off");
    let mut next = done.next();
    next.reader_mut().set_visual_mode(false);
    assert!(matches!(
        next.card_placed(card()),
        Reception::ExpectIdentity(_)
    ));
}

#[test]
fn staff_cannot_confirm_outside_visual_mode() {
    let id = expect!(placed(reader(FakeCenter::new()), card()), ExpectIdentity);
    let staff = expect!(id.staff(), ExpectStaff);
    let staff = expect!(staff.confirm("nurse-07"), ExpectStaff);
    assert_eq!(staff.notice, Some(Message::SwitchToVisualMode));
    let staff = staff.set_visual_mode(true);
    let c = expect!(staff.confirm("nurse-07"), ExpectConsent);
    let (_, center) = done_center(c.answer_all(ConsentKind::ALL));
    assert_eq!(
        center.requests[0]["visual"],
        json!({"staff_id": "nurse-07"})
    );
    assert_eq!(
        center.requests[0]["consents"],
        json!([
            "medication",
            "checkups",
            "diagnoses",
            "surgeries",
            "cost_ceiling"
        ])
    );
}

#[test]
fn not_linked_after_the_pin_registers_with_the_same_pin_entry() {
    let mut center = FakeCenter::new();
    center.linked = false;
    let id = expect!(placed(reader(center), card()), ExpectIdentity);
    let pin = expect!(id.pin(), ExpectPin);
    let c = expect!(pin.enter(Pin::from(PIN)), ExpectConsent);
    let offer = expect!(c.answer_all(&[ConsentKind::Checkups]), ExpectLinkConsent);
    assert_eq!(offer.prompt(), Message::OfferLink);
    assert_eq!(offer.method(), Method::Pin);
    let r = offer.answer(true);
    assert_eq!(r.messages()[0], Message::Linked);
    let (done, center) = done_center(r);
    assert_eq!(done.linked_on, NaiveDate::from_ymd_opt(2025, 6, 2));
    assert_eq!(done.consents, [ConsentKind::Checkups]);
    assert_eq!(center.links.len(), 1);
    // First submission refused, second after the link, each with its own challenge,
    // each signature checked by the center over its own message.
    assert_eq!(center.requests.len(), 2);
    assert_ne!(
        center.requests[0]["challenge"],
        center.requests[1]["challenge"]
    );
    assert_ne!(
        center.links[0]["challenge"],
        center.requests[1]["challenge"]
    );
    assert_eq!(center.requests[1]["consents"], json!(["checkups"]));
    assert_eq!(center.requests[1]["method"], "pin");
}

#[test]
fn not_linked_after_staff_asks_for_the_pin_to_register() {
    let mut center = FakeCenter::new();
    center.linked = false;
    let mut rd = reader(center);
    rd.set_visual_mode(true);
    let staff = expect!(placed(rd, card()), ExpectStaff);
    let c = expect!(staff.confirm("s1"), ExpectConsent);
    let offer = expect!(c.answer_all(&[ConsentKind::Medication]), ExpectLinkConsent);
    let link = expect!(offer.answer(true), ExpectLinkPin);
    assert_eq!(link.prompt(), Message::EnterPinForLink { tries_left: 3 });
    let link = expect!(link.enter(Pin::from("4321")), ExpectLinkPin);
    assert_eq!(link.notice, Some(Message::WrongPin { tries_left: 2 }));
    let link = expect!(link.enter(Pin::from("43")), ExpectLinkPin);
    assert_eq!(link.notice, Some(Message::PinFormat));
    let (done, center) = done_center(link.enter(Pin::from(PIN)));
    assert!(done.linked_on.is_some());
    assert_eq!(
        done.method,
        Method::Pin,
        "the registration's PIN signature is the evidence"
    );
    assert_eq!(center.requests[0]["method"], "visual");
    assert_eq!(center.requests[1]["method"], "pin");
    assert_eq!(center.requests[1]["consents"], json!(["medication"]));
}

#[test]
fn registration_with_a_blocked_pin_is_refused() {
    let mut center = FakeCenter::new();
    center.linked = false;
    let mut rd = reader(center);
    rd.set_visual_mode(true);
    let staff = expect!(placed(rd, card_with_tries(0)), ExpectStaff);
    let c = expect!(staff.confirm("s1"), ExpectConsent);
    let offer = expect!(c.answer_all(&[]), ExpectLinkConsent);
    let failed = expect!(offer.answer(true), Failed);
    assert_eq!(failed.failure, Message::PinBlocked);
}

#[test]
fn declining_registration_ends_with_the_not_linked_message() {
    let mut center = FakeCenter::new();
    center.linked = false;
    let mut rd = reader(center);
    rd.set_visual_mode(true);
    let staff = expect!(placed(rd, card()), ExpectStaff);
    let c = expect!(staff.confirm("s1"), ExpectConsent);
    let offer = expect!(c.answer_all(&[]), ExpectLinkConsent);
    assert_eq!(offer.method(), Method::Visual);
    let failed = expect!(offer.answer(false), Failed);
    assert_eq!(failed.failure, Message::CardNotLinked);
}

#[test]
fn certificate_expired_and_revoked_say_ask_the_desk_and_the_municipal_office() {
    for (code, message) in [
        ("certificate_expired", Message::CertificateExpired),
        ("certificate_revoked", Message::CertificateRevoked),
    ] {
        let mut center = FakeCenter::new();
        center.answer = Answer::Refuse(403, code);
        let id = expect!(placed(reader(center), card()), ExpectIdentity);
        let c = expect!(
            expect!(id.pin(), ExpectPin).enter(Pin::from(PIN)),
            ExpectConsent
        );
        let failed = expect!(c.answer_all(&[]), Failed);
        assert_eq!(failed.failure, message);
        assert_eq!(failed.problem, Some(ProblemCode::parse(code)));
        let ja = message.text(Lang::Ja);
        assert!(
            ja.contains("受付でお申し出ください。保険証の確認を別の方法で行います"),
            "{ja}"
        );
        assert!(ja.contains("市区町村の窓口"), "{ja}");
        assert!(failed.pending.is_none());
    }
}

#[test]
fn results_other_than_valid_carry_a_plain_notice() {
    let cases = [
        (
            QualificationValidity::Invalid,
            vec![record(Some("03"), Some("2025-05-31"))],
            Message::JobChangeNotRegistered,
        ),
        (
            QualificationValidity::Invalid,
            vec![
                record(Some("03"), Some("2019-03-31")),
                record(Some("99"), Some("2025-05-31")),
            ],
            Message::InsuranceLost,
        ),
        (
            QualificationValidity::NotFound,
            vec![],
            Message::JobChangeNotRegistered,
        ),
        (
            QualificationValidity::Several,
            vec![record(None, None), record(None, None)],
            Message::SeveralQualifications,
        ),
        (
            QualificationValidity::InvalidNewerExists,
            vec![record(Some("03"), Some("2025-05-31")), record(None, None)],
            Message::NewerQualification,
        ),
    ];
    for (validity, records, notice) in cases {
        let mut center = FakeCenter::new();
        center.answer = Answer::Result(validity, records);
        let id = expect!(placed(reader(center), card()), ExpectIdentity);
        let c = expect!(
            expect!(id.pin(), ExpectPin).enter(Pin::from(PIN)),
            ExpectConsent
        );
        let done = expect!(c.answer_all(&[]), Done);
        assert_eq!(done.notices, [notice], "{validity:?}");
    }
    let ja = Message::JobChangeNotRegistered.text(Lang::Ja);
    assert!(ja.contains("新しい保険") && ja.contains("資格確認書") && ja.contains("勤務先"));
}

#[test]
fn center_unreachable_keeps_the_reception_for_staff() {
    let mut center = FakeCenter::new();
    center.unreachable = true;
    let mut rd = reader(center);
    rd.set_visual_mode(true);
    let staff = expect!(placed(rd, card()), ExpectStaff);
    let c = expect!(staff.confirm("s1"), ExpectConsent);
    let failed = expect!(c.answer_all(&[ConsentKind::Medication]), Failed);
    assert_eq!(failed.failure, Message::CenterUnreachable);
    let pending = failed.pending.clone().unwrap();
    assert_eq!(pending.method, Method::Visual);
    assert_eq!(pending.consents, ["medication"]);
    assert_eq!(
        pending.certificate_sha256,
        crate::wire::hex(&onshi_card::onsign::sha256(&fixture().card.jpki.auth_cert))
    );
    assert!(
        failed
            .failure
            .text(Lang::Ja)
            .contains("後ほど職員が確認します")
    );
    let mut next = failed.next();
    assert_eq!(next.reader_mut().pending(), [pending]);
    next.reader_mut().set_visual_mode(false);
    // On the PIN path the center is needed for the challenge already.
    let id = expect!(next.card_placed(card()), ExpectIdentity);
    let failed = expect!(expect!(id.pin(), ExpectPin).enter(Pin::from(PIN)), Failed);
    assert_eq!(failed.failure, Message::CenterUnreachable);
    assert_eq!(failed.next().reader_mut().take_pending().len(), 2);
}

#[test]
fn a_stale_challenge_is_replaced_once_without_asking_the_pin_again() {
    let mut center = FakeCenter::new();
    center.refuse_next.push_back("challenge_expired");
    let id = expect!(placed(reader(center), card()), ExpectIdentity);
    let c = expect!(
        expect!(id.pin(), ExpectPin).enter(Pin::from(PIN)),
        ExpectConsent
    );
    let (_, center) = done_center(c.answer_all(&[]));
    assert_eq!(center.requests.len(), 2);
    assert_ne!(
        center.requests[0]["signature"],
        center.requests[1]["signature"]
    );

    let mut center = FakeCenter::new();
    center
        .refuse_next
        .extend(["challenge_replayed", "challenge_replayed"]);
    let id = expect!(placed(reader(center), card()), ExpectIdentity);
    let c = expect!(
        expect!(id.pin(), ExpectPin).enter(Pin::from(PIN)),
        ExpectConsent
    );
    let failed = expect!(c.answer_all(&[]), Failed);
    assert_eq!(failed.failure, Message::TimedOut);
}

#[test]
fn terminal_and_card_refusals_map_to_their_messages() {
    for (code, message) in [
        ("signature_invalid", Message::CardNotAccepted),
        ("certificate_invalid", Message::CardNotAccepted),
        ("institution_mismatch", Message::TerminalNotAccepted),
        ("terminal_revoked", Message::TerminalNotAccepted),
        ("institution_not_registered", Message::TerminalNotAccepted),
        ("malformed_body", Message::SystemError),
        ("internal_error", Message::CenterUnreachable),
    ] {
        let mut center = FakeCenter::new();
        center.answer = Answer::Refuse(400, code);
        let mut rd = reader(center);
        rd.set_visual_mode(true);
        let c = expect!(
            expect!(placed(rd, card()), ExpectStaff).confirm("s1"),
            ExpectConsent
        );
        let failed = expect!(c.answer_all(&[]), Failed);
        assert_eq!(failed.failure, message, "{code}");
    }
}

#[test]
fn a_card_that_cannot_be_read_is_asked_for_again() {
    let r: R = reader(FakeCenter::new())
        .start()
        .card_placed(VirtualCard::new({
            let mut f = fixture().card.clone();
            f.jpki.auth_cert.clear();
            f
        }));
    let again = expect!(r, ExpectCard);
    assert_eq!(again.notice, Some(Message::CardUnreadable));
    assert_eq!(again.prompt(), Message::PlaceCard);
    let _ = center_of(Reception::<VirtualCard, FakeCenter>::ExpectCard(again));
}

#[test]
fn every_message_has_japanese_and_english_text() {
    let all = [
        Message::PlaceCard,
        Message::ChooseMethod,
        Message::EnterPin { tries_left: 3 },
        Message::LookAtCamera { attempts_left: 2 },
        Message::StaffConfirm,
        Message::SwitchToVisualMode,
        Message::Consent(ConsentKind::Medication),
        Message::OfferLink,
        Message::EnterPinForLink { tries_left: 3 },
        Message::Linked,
        Message::Done,
        Message::WrongPin { tries_left: 1 },
        Message::PinBlocked,
        Message::PinFormat,
        Message::CardNotLinked,
        Message::CertificateExpired,
        Message::CertificateRevoked,
        Message::InsuranceLost,
        Message::JobChangeNotRegistered,
        Message::SeveralQualifications,
        Message::NewerQualification,
        Message::CenterUnreachable,
        Message::FaceNotFound { attempts_left: 0 },
        Message::FaceNotMatched { attempts_left: 1 },
        Message::FaceUnavailable,
        Message::CardUnreadable,
        Message::CardNotAccepted,
        Message::TimedOut,
        Message::TerminalNotAccepted,
        Message::SystemError,
    ];
    let mut ids = std::collections::HashSet::new();
    for m in &all {
        let ja = m.text(Lang::Ja);
        let en = m.text(Lang::En);
        assert!(!ja.is_ascii(), "{m:?}: {ja}");
        assert!(en.is_ascii() || en.contains("資格確認書"), "{m:?}: {en}");
        assert!(ids.insert(m.id()), "duplicate id {}", m.id());
    }
    assert!(
        Message::Consent(ConsentKind::Checkups)
            .text(Lang::Ja)
            .contains("特定健診等情報")
    );
}

/// The built-in matcher on the synthetic person: a frame of the card holder is accepted
/// within the attempts, another person's frame is not.
#[test]
fn classic_matcher_accepts_the_holder_and_refuses_another_person() {
    let holder = reader_with(FakeCenter::new(), Box::new(ClassicMatcher::default()));
    let mut face = expect!(
        expect!(placed(holder, card()), ExpectIdentity).face(code_b()),
        ExpectFace
    );
    let mut variation = 0;
    let consent = loop {
        variation += 1;
        match face.frame(&onshi_face::render_camera_frame(FACE_SEED, variation)) {
            Reception::ExpectConsent(c) => break c,
            Reception::ExpectFace(f) => face = f,
            other => panic!(
                "holder refused at variation {variation}: {:?}",
                other.messages()
            ),
        }
    };
    let (_, center) = done_center(consent.answer_all(&[]));
    let score = center.requests[0]["face"]["score"].as_f64().unwrap();
    assert!(score >= onshi_face::DEFAULT_THRESHOLD as f64, "{score}");

    let other = reader_with(FakeCenter::new(), Box::new(ClassicMatcher::default()));
    let mut face = expect!(
        expect!(placed(other, card()), ExpectIdentity).face(code_b()),
        ExpectFace
    );
    for variation in 1.. {
        match face.frame(&onshi_face::render_camera_frame(
            FACE_SEED + 1000,
            variation,
        )) {
            Reception::ExpectFace(f) => face = f,
            Reception::ExpectPin(p) => {
                assert!(matches!(
                    p.notice,
                    Some(Message::FaceNotMatched { .. } | Message::FaceNotFound { .. })
                ));
                break;
            }
            other => panic!("impostor went to {}", other.name()),
        }
    }
}

#[test]
fn time_is_signed_in_japan_time() {
    let t = Utc.with_ymd_and_hms(2025, 12, 31, 15, 0, 0).unwrap();
    assert_eq!(SignedAt::at(t).as_str(), "20260101000000");
}

#[path = "tests_script.rs"]
mod script;
