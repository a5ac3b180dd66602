//! The result of a reception as FHIR R4 (4.0.1), following JP Core: a `collection`
//! Bundle with the Patient, one Coverage per qualification reported (with JP Core's
//! insured-person symbol, number and branch-number extensions), the insurer as an
//! Organization, one Consent per consent given at the reader, and — only while the
//! consent for their kind is in force — MedicationDispense (薬剤情報) and Observation
//! (特定健診等情報) resources. Served at `GET /v1/receptions/{reception}/fhir` to the
//! institution's terminals; the views of histories are recorded as the JSON ones are.
//!
//! The My Number is never written. Every reference inside the Bundle is a `urn:uuid:`
//! full URL, so the Bundle stands alone.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{Months, NaiveDate, NaiveDateTime};
use onshi_model::{ConsentKind, InstitutionCode, PersonalFamilyClassification, Sex};
use onshi_store::{CheckupRow, MedicationRow, NewHistoryView, RecordView};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::time::now_jst;
use crate::tls::ClientIdentity;

/// How far back the histories go (as the JSON history).
const HISTORY_MONTHS: u32 = 36;

const JP_PROFILE: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/";
const JP_EXT: &str = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/";
/// 保険者番号 (JP Core NamingSystem).
pub const INSURER_NUMBER_SYSTEM: &str = "urn:oid:1.2.392.100495.20.3.61";
/// 医療機関コード (10 digits).
pub const INSTITUTION_CODE_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
/// YJ code of a drug.
pub const YJ_CODE_SYSTEM: &str = "urn:oid:1.2.392.100495.20.2.74";
/// The clinic's patient id (照会番号) of an institution: this prefix and its 10-digit code.
pub const PATIENT_ID_SYSTEM_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.51.1";
const EN_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const JST: &str = "+09:00";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/v1/receptions/{reception}/fhir", get(bundle))
}

/// Allocates the `urn:uuid:` full URLs of one Bundle: random, in the form of version 4.
struct Ids;

impl Ids {
    fn next(&mut self) -> Result<String, ApiError> {
        use aws_lc_rs::rand::{SecureRandom, SystemRandom};
        let mut b = [0u8; 16];
        SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| ApiError::Internal("random source failed".into()))?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = crate::hex(&b);
        Ok(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn instant(t: NaiveDateTime) -> String {
    format!("{}{JST}", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn profile(name: &str) -> Value {
    json!({ "profile": [format!("{JP_PROFILE}{name}")] })
}

fn institution_identifier(code: &str) -> Value {
    json!({ "system": INSTITUTION_CODE_SYSTEM, "value": code })
}

fn entry(id: &str, resource: Value) -> Value {
    json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": resource })
}

fn reference(id: &str) -> Value {
    json!({ "reference": format!("urn:uuid:{id}") })
}

fn patient(id: &str, v: &RecordView, reference_number: Option<(&str, &str)>) -> Value {
    let p = &v.person;
    let n = &p.name;
    let gender = match p.sex {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::NotApplicable => "unknown",
    };
    let mut r = json!({
        "resourceType": "Patient",
        "id": id,
        "meta": profile("JP_Patient"),
        "name": [
            {
                "extension": [{ "url": EN_REPRESENTATION, "valueCode": "IDE" }],
                "use": "official",
                "text": n.full(),
                "family": n.family,
                "given": [n.given],
            },
            {
                "extension": [{ "url": EN_REPRESENTATION, "valueCode": "SYL" }],
                "use": "official",
                "text": format!("{}　{}", n.family_kana, n.given_kana),
                "family": n.family_kana,
                "given": [n.given_kana],
            }
        ],
        "gender": gender,
        "birthDate": date(p.birth_date),
        "address": [{
            "use": "home",
            "text": p.address,
            "postalCode": p.post_number,
            "country": "JP",
        }],
    });
    if let Some(d) = p.death_date {
        r["deceasedDateTime"] = json!(date(d));
    }
    if let Some((institution, number)) = reference_number {
        r["identifier"] = json!([{
            "system": format!("{PATIENT_ID_SYSTEM_PREFIX}{institution}"),
            "value": number,
        }]);
    }
    r
}

fn insurer(id: &str, v: &RecordView) -> Value {
    let number = v.record.insurer_number.as_str();
    let mut r = json!({
        "resourceType": "Organization",
        "id": id,
        "meta": profile("JP_Organization"),
        "identifier": [{ "system": INSURER_NUMBER_SYSTEM, "value": number }],
        "type": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
            "code": "pay",
            "display": "Payer",
        }]}],
        "active": true,
    });
    let name = v.insurer_name.clone().or_else(|| {
        onshi_model::InsurerKind::of(&v.record.insurer_number).map(|k| k.name_ja().to_owned())
    });
    if let Some(name) = name {
        r["name"] = json!(name);
    }
    r
}

fn coverage(id: &str, v: &RecordView, as_of: NaiveDate, patient: &str, payor: &str) -> Value {
    let rec = &v.record;
    let mut ext = Vec::new();
    if let Some(s) = &rec.symbol {
        ext.push(json!({ "url": format!("{JP_EXT}JP_Coverage_InsuredPersonSymbol"), "valueString": s.as_str() }));
    }
    ext.push(json!({ "url": format!("{JP_EXT}JP_Coverage_InsuredPersonNumber"), "valueString": rec.number.as_str() }));
    ext.push(json!({ "url": format!("{JP_EXT}JP_Coverage_InsuredPersonSubNumber"), "valueString": rec.branch.as_str() }));
    let (rel, rel_display) = match rec.personal_family {
        PersonalFamilyClassification::Insured => ("self", "Self"),
        _ => ("other", "Other"),
    };
    let mut period = json!({ "start": date(rec.qualification_date) });
    if let Some(end) = rec.disqualification_date.and_then(|d| d.pred_opt()) {
        period["end"] = json!(date(end));
    }
    json!({
        "resourceType": "Coverage",
        "id": id,
        "meta": profile("JP_Coverage"),
        "extension": ext,
        "identifier": [{ "value": format!(
            "{}:{}:{}",
            rec.symbol.as_ref().map(|s| s.as_str()).unwrap_or(""),
            rec.number.as_str(),
            rec.branch.as_str()
        )}],
        "status": if rec.in_force_on(as_of) { "active" } else { "cancelled" },
        "type": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "PUBLICPOL",
            "display": "public healthcare",
        }], "text": rec.card_classification.label() },
        "subscriberId": rec.number.as_str(),
        "beneficiary": reference(patient),
        "dependent": rec.branch.as_str(),
        "relationship": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
            "code": rel,
            "display": rel_display,
        }], "text": rec.personal_family.label() },
        "period": period,
        "payor": [reference(payor)],
        "costToBeneficiary": [{
            "type": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/coverage-copay-type",
                "code": "copaypct",
            }]},
            "valueQuantity": {
                "value": rec.burden_ratio.percent(),
                "unit": "%",
                "system": UCUM,
                "code": "%",
            },
        }],
    })
}

fn consent_kind(kind: ConsentKind) -> (&'static str, &'static str) {
    match kind {
        ConsentKind::Medication => ("medication", "薬剤情報"),
        ConsentKind::Checkups => ("checkups", "特定健診等情報"),
        ConsentKind::Diagnoses => ("diagnoses", "診療情報"),
        ConsentKind::Surgeries => ("surgeries", "手術情報"),
        ConsentKind::CostCeiling => ("cost_ceiling", "限度額情報"),
    }
}

fn consent(
    id: &str,
    c: &onshi_store::ConsentRow,
    now: NaiveDateTime,
    patient: &str,
    institution: &str,
) -> Value {
    let (code, label) = consent_kind(c.kind);
    json!({
        "resourceType": "Consent",
        "id": id,
        "status": if c.available_until > now { "active" } else { "inactive" },
        "scope": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "patient-privacy",
            "display": "Privacy Consent",
        }]},
        "category": [{ "coding": [{
            "system": LOINC,
            "code": "59284-0",
            "display": "Patient Consent",
        }], "text": format!("{label}の提供への同意") }],
        "patient": reference(patient),
        "dateTime": instant(c.consented_at),
        "organization": [{ "identifier": institution_identifier(institution) }],
        "policyRule": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "OPTIN",
        }]},
        "provision": {
            "type": "permit",
            "period": { "start": instant(c.consented_at), "end": instant(c.available_until) },
            "actor": [{
                "role": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "IRCP",
                    "display": "information recipient",
                }]},
                "reference": { "identifier": institution_identifier(institution) },
            }],
            "action": [{ "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                "code": "access",
            }]}],
            "code": [{ "coding": [{ "system": "urn:onshi:consent-kind", "code": code, "display": label }] }],
        },
    })
}

fn tenths(v: i64) -> f64 {
    v as f64 / 10.0
}

fn medication_dispense(id: &str, m: &MedicationRow, patient: &str) -> Value {
    json!({
        "resourceType": "MedicationDispense",
        "id": id,
        "meta": profile("JP_MedicationDispense"),
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{ "system": YJ_CODE_SYSTEM, "code": m.drug_code, "display": m.drug_name }],
            "text": m.drug_name,
        },
        "subject": reference(patient),
        "performer": [{ "actor": { "identifier": institution_identifier(m.pharmacy.as_str()) } }],
        "authorizingPrescription": [{ "identifier": {
            "system": INSTITUTION_CODE_SYSTEM,
            "value": m.prescriber.as_str(),
        }, "display": "処方医療機関" }],
        "quantity": { "value": tenths(m.quantity_x10), "unit": m.unit },
        "daysSupply": { "value": m.days_supplied, "unit": "日", "system": UCUM, "code": "d" },
        "whenHandedOver": date(m.dispensed_on),
        "dosageInstruction": [{ "text": m.dose }],
    })
}

/// One check-up item: its LOINC code and display, Japanese name, category and value.
struct Item {
    loinc: &'static str,
    display: &'static str,
    ja: &'static str,
    vital: bool,
    value: Value,
}

fn quantity(value: f64, unit: &str, ucum: &str) -> Value {
    json!({ "valueQuantity": { "value": value, "unit": unit, "system": UCUM, "code": ucum } })
}

fn urine(code: &str) -> Value {
    let display = match code {
        "-" => "(-)",
        "+-" => "(±)",
        "1+" => "(1+)",
        "2+" => "(2+)",
        _ => "(3+)",
    };
    json!({ "valueCodeableConcept": { "text": display } })
}

fn checkup_items(c: &CheckupRow) -> Vec<Item> {
    let q = quantity;
    let n = |v: i64| v as f64;
    vec![
        Item {
            loinc: "8302-2",
            display: "Body height",
            ja: "身長",
            vital: true,
            value: q(tenths(c.height_cm_x10), "cm", "cm"),
        },
        Item {
            loinc: "29463-7",
            display: "Body weight",
            ja: "体重",
            vital: true,
            value: q(tenths(c.weight_kg_x10), "kg", "kg"),
        },
        Item {
            loinc: "39156-5",
            display: "Body mass index (BMI) [Ratio]",
            ja: "BMI",
            vital: true,
            value: q(tenths(c.bmi_x10), "kg/m2", "kg/m2"),
        },
        Item {
            loinc: "8280-0",
            display: "Waist Circumference at umbilicus by Tape measure",
            ja: "腹囲",
            vital: true,
            value: q(tenths(c.waist_cm_x10), "cm", "cm"),
        },
        Item {
            loinc: "8480-6",
            display: "Systolic blood pressure",
            ja: "収縮期血圧",
            vital: true,
            value: q(n(c.systolic_mmhg), "mmHg", "mm[Hg]"),
        },
        Item {
            loinc: "8462-4",
            display: "Diastolic blood pressure",
            ja: "拡張期血圧",
            vital: true,
            value: q(n(c.diastolic_mmhg), "mmHg", "mm[Hg]"),
        },
        Item {
            loinc: "4548-4",
            display: "Hemoglobin A1c/Hemoglobin.total in Blood",
            ja: "HbA1c（NGSP）",
            vital: false,
            value: q(tenths(c.hba1c_percent_x10), "%", "%"),
        },
        Item {
            loinc: "1558-6",
            display: "Fasting glucose [Mass/volume] in Serum or Plasma",
            ja: "空腹時血糖",
            vital: false,
            value: q(n(c.fasting_glucose_mg_dl), "mg/dL", "mg/dL"),
        },
        Item {
            loinc: "18262-6",
            display: "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
            ja: "LDLコレステロール",
            vital: false,
            value: q(n(c.ldl_mg_dl), "mg/dL", "mg/dL"),
        },
        Item {
            loinc: "2085-9",
            display: "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
            ja: "HDLコレステロール",
            vital: false,
            value: q(n(c.hdl_mg_dl), "mg/dL", "mg/dL"),
        },
        Item {
            loinc: "2571-8",
            display: "Triglyceride [Mass/volume] in Serum or Plasma",
            ja: "中性脂肪",
            vital: false,
            value: q(n(c.triglycerides_mg_dl), "mg/dL", "mg/dL"),
        },
        Item {
            loinc: "1920-8",
            display: "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            ja: "AST（GOT）",
            vital: false,
            value: q(n(c.ast_u_l), "U/L", "U/L"),
        },
        Item {
            loinc: "1742-6",
            display: "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            ja: "ALT（GPT）",
            vital: false,
            value: q(n(c.alt_u_l), "U/L", "U/L"),
        },
        Item {
            loinc: "2324-2",
            display: "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma",
            ja: "γ-GT",
            vital: false,
            value: q(n(c.ggt_u_l), "U/L", "U/L"),
        },
        Item {
            loinc: "20454-5",
            display: "Protein [Presence] in Urine by Test strip",
            ja: "尿蛋白",
            vital: false,
            value: urine(c.urine_protein.code()),
        },
        Item {
            loinc: "25428-4",
            display: "Glucose [Presence] in Urine by Test strip",
            ja: "尿糖",
            vital: false,
            value: urine(c.urine_glucose.code()),
        },
    ]
}

fn observation(id: &str, c: &CheckupRow, item: Item, patient: &str) -> Value {
    let (cat, cat_display, prof) = if item.vital {
        ("vital-signs", "Vital Signs", "JP_Observation_VitalSigns")
    } else {
        ("laboratory", "Laboratory", "JP_Observation_LabResult")
    };
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "meta": profile(prof),
        "status": "final",
        "category": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": cat,
            "display": cat_display,
        }]}],
        "code": {
            "coding": [{ "system": LOINC, "code": item.loinc, "display": item.display }],
            "text": item.ja,
        },
        "subject": reference(patient),
        "effectiveDateTime": date(c.performed_on),
        "performer": [{ "identifier": institution_identifier(c.institution_code.as_str()) }],
    });
    if let (Some(obj), Value::Object(v)) = (r.as_object_mut(), item.value) {
        obj.extend(v);
    }
    r
}

async fn bundle(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    Path(reception): Path<String>,
) -> Result<Response, ApiError> {
    let institution: InstitutionCode = crate::card::terminal(&state, identity)?;
    let id: i64 = reception.parse().map_err(|_| ApiError::NotFound)?;
    let store = state.store();
    // Another institution's reception is absent, not forbidden.
    let check = store
        .check(id)
        .await?
        .filter(|c| c.institution_code == institution.as_str())
        .ok_or(ApiError::NotFound)?;
    let person_id = check.person_id.ok_or(ApiError::NotFound)?;
    let now = now_jst();
    let views = store.records_of_person(person_id).await?;
    let views: Vec<RecordView> = match check.record_id {
        Some(rid) => views.into_iter().filter(|v| v.record.id == rid).collect(),
        None => crate::eligibility::decide_for_person(views, check.as_of).1,
    };
    let first = views.first().ok_or(ApiError::NotFound)?;
    let reference_number = store.reference_number(&institution, person_id).await?;
    let mut ids = Ids;
    let patient_id = ids.next()?;
    let mut entries = vec![entry(
        &patient_id,
        patient(
            &patient_id,
            first,
            reference_number
                .as_ref()
                .map(|r| (institution.as_str(), r.reference_number.as_str())),
        ),
    )];
    for v in &views {
        let org = ids.next()?;
        let cov = ids.next()?;
        entries.push(entry(
            &cov,
            coverage(&cov, v, check.as_of, &patient_id, &org),
        ));
        entries.push(entry(&org, insurer(&org, v)));
    }
    let consents = store.consents_of_reception(id).await?;
    for c in &consents {
        let cid = ids.next()?;
        entries.push(entry(
            &cid,
            consent(&cid, c, now, &patient_id, institution.as_str()),
        ));
    }
    let in_force = |k: ConsentKind| {
        consents
            .iter()
            .any(|c| c.kind == k && c.available_until > now)
    };
    let since = check
        .as_of
        .checked_sub_months(Months::new(HISTORY_MONTHS))
        .unwrap_or(check.as_of);
    if in_force(ConsentKind::Medication) {
        let meds = store.medications(person_id, since).await?;
        for m in &meds {
            let mid = ids.next()?;
            entries.push(entry(&mid, medication_dispense(&mid, m, &patient_id)));
        }
        record_view(
            &state,
            person_id,
            institution,
            ConsentKind::Medication,
            id,
            meds.len(),
        )
        .await?;
    }
    if in_force(ConsentKind::Checkups) {
        let checkups = store.checkups(person_id, since).await?;
        for c in &checkups {
            for item in checkup_items(c) {
                let oid = ids.next()?;
                entries.push(entry(&oid, observation(&oid, c, item, &patient_id)));
            }
        }
        record_view(
            &state,
            person_id,
            institution,
            ConsentKind::Checkups,
            id,
            checkups.len(),
        )
        .await?;
    }
    let bundle = json!({
        "resourceType": "Bundle",
        "id": ids.next()?,
        "meta": { "lastUpdated": instant(now) },
        "identifier": { "system": "urn:onshi:reception", "value": id.to_string() },
        "type": "collection",
        "timestamp": instant(now),
        "entry": entries,
    });
    let body = serde_json::to_vec(&bundle).map_err(|e| ApiError::Internal(format!("fhir: {e}")))?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json; fhirVersion=4.0"),
    );
    Ok(resp)
}

async fn record_view(
    state: &AppState,
    person_id: i64,
    institution: InstitutionCode,
    kind: ConsentKind,
    reception_id: i64,
    rows: usize,
) -> Result<(), ApiError> {
    state
        .store()
        .record_history_view(&NewHistoryView {
            at: now_jst(),
            person_id,
            institution_code: institution,
            kind,
            reception_id,
            row_count: rows as i64,
        })
        .await?;
    Ok(())
}
