//! The response messages the terminal writes to `res/` and the reader results it writes
//! to `face/`, and a reader of both (for EMR-side tools and for round-trip tests).

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::{
    CharacterCodeIdentifier, EligibilityResult, InstitutionCode, ProcessingResultStatus,
    Qualification, QualificationValidity, ReferenceClassification, SegmentOfResult,
    format_yyyymmdd,
};

use crate::charset::Charset;
use crate::error::{ErrorCode, OqsError};
use crate::names::*;
use crate::request::{RequestHeader, read_root};
use crate::xml::{Element, Writer};

mod qualification;

/// `MessageHeader` of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeader {
    /// ProcessExecutionTime (`yyyyMMddHHmmss`, Japan time).
    pub processed_at: NaiveDateTime,
    pub confirmation_date: NaiveDate,
    /// Absent only in the error response to a request whose header was unreadable.
    pub institution: Option<InstitutionCode>,
    pub file_id: Option<String>,
    pub reference: ReferenceClassification,
    pub segment: SegmentOfResult,
    /// ErrorCode and ErrorMessage (SegmentOfResult 9).
    pub error: Option<(String, String)>,
    pub charset: Charset,
}

/// `MessageBody` of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseBody {
    pub status: ProcessingResultStatus,
    pub result_code: Option<String>,
    pub result_message: Option<String>,
    pub validity: Option<QualificationValidity>,
    /// `ResultList/ResultOfQualificationConfirmation`, in order.
    pub records: Vec<Qualification>,
    /// 受付番号 of an accepted bulk request.
    pub reception_number: Option<String>,
    /// 照会番号 echoed by a registration.
    pub reference_number: Option<String>,
    /// The answer of a finished bulk check (`OQSmuquc02`), one per patient of the
    /// request, in its order.
    pub bulk_results: Vec<BulkResult>,
    /// The answer of a finished 訪問診療 / オンライン診療 search (`OQSmuhvq02`,
    /// `OQSmuonq02`): one `BulkConfirmUnit` per patient found, directly in the body, with
    /// the patient's 照会番号 as its own `ReferenceNumber` (the layout a public client reads).
    pub bulk_units: Vec<BulkResult>,
}

/// One patient's answer in a bulk check result: onshi's design (no public sample of
/// `OQSmuquc02` results exists), written as
/// `QualificationConfirmResultList/QualificationConfirmResult{SequenceNumber,
/// ProcessingResultStatus, ProcessingResultCode?, ProcessingResultMessage?,
/// QualificationValidity?, ResultList?}` — the body of a single check, per patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkResult {
    /// 1-based position of the patient in the request.
    pub sequence: usize,
    pub status: ProcessingResultStatus,
    /// Code and message when this patient could not be checked.
    pub error: Option<(String, String)>,
    pub validity: Option<QualificationValidity>,
    pub records: Vec<Qualification>,
}

/// A response file read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    pub header: ResponseHeader,
    pub body: ResponseBody,
}

const TIME_FORMAT: &str = "%Y%m%d%H%M%S";

pub(crate) fn format_time(t: NaiveDateTime) -> String {
    t.format(TIME_FORMAT).to_string()
}

pub(crate) fn parse_time(
    e: &Element,
    name: &'static str,
) -> Result<Option<NaiveDateTime>, OqsError> {
    e.opt_text(name)?
        .map(|s| {
            if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(OqsError::InvalidValue {
                    element: name,
                    detail: format!("{s:?} は yyyyMMddHHmmss ではありません"),
                });
            }
            NaiveDateTime::parse_from_str(s, TIME_FORMAT).map_err(|_| OqsError::InvalidValue {
                element: name,
                detail: format!("{s:?} は日時ではありません"),
            })
        })
        .transpose()
}

fn write_header(w: &mut Writer, h: &ResponseHeader) {
    w.open(MESSAGE_HEADER);
    w.leaf(PROCESS_EXECUTION_TIME, &format_time(h.processed_at));
    w.leaf(
        QUALIFICATION_CONFIRMATION_DATE,
        &format_yyyymmdd(h.confirmation_date),
    );
    w.leaf(
        MEDICAL_INSTITUTION_CODE,
        h.institution.as_ref().map_or("", InstitutionCode::as_str),
    );
    w.leaf_opt(ARBITRARY_FILE_IDENTIFIER, h.file_id.as_deref());
    w.leaf(REFERENCE_CLASSIFICATION, h.reference.code());
    w.leaf(SEGMENT_OF_RESULT, h.segment.code());
    if let Some((code, message)) = &h.error {
        w.leaf(ERROR_CODE, code);
        w.leaf(ERROR_MESSAGE, message);
    }
    w.leaf(CHARACTER_CODE_IDENTIFIER, h.charset.code());
    if let Some((_, message)) = &h.error {
        // What clients of the medication and check-up messages look for (any message).
        w.leaf(RESULT_CODE, crate::history::RESULT_CODE_ERROR);
        w.leaf(MESSAGE_CONTENTS, message);
    }
    w.close(MESSAGE_HEADER);
}

fn write_body(w: &mut Writer, b: &ResponseBody, charset: Charset) {
    w.open(MESSAGE_BODY);
    w.leaf(PROCESSING_RESULT_STATUS, b.status.code());
    w.leaf_opt(PROCESSING_RESULT_CODE, b.result_code.as_deref());
    w.leaf_opt(PROCESSING_RESULT_MESSAGE, b.result_message.as_deref());
    w.leaf_opt(RECEPTION_NUMBER, b.reception_number.as_deref());
    w.leaf_opt(QUALIFICATION_VALIDITY, b.validity.map(|v| v.code()));
    if !b.records.is_empty() {
        w.open(RESULT_LIST);
        for q in &b.records {
            qualification::write(w, q, charset);
        }
        w.close(RESULT_LIST);
    }
    if !b.bulk_results.is_empty() {
        w.open(BULK_RESULT_LIST);
        for r in &b.bulk_results {
            w.open(BULK_RESULT);
            write_bulk_result_fields(w, r, charset);
            w.close(BULK_RESULT);
        }
        w.close(BULK_RESULT_LIST);
    }
    for r in &b.bulk_units {
        w.open(BULK_CONFIRM_UNIT);
        if let Some(n) = r.records.iter().find_map(|q| q.reference_number.as_deref()) {
            w.leaf(REFERENCE_NUMBER, n);
        }
        write_bulk_result_fields(w, r, charset);
        w.close(BULK_CONFIRM_UNIT);
    }
    w.leaf_opt(REFERENCE_NUMBER, b.reference_number.as_deref());
    w.close(MESSAGE_BODY);
}

fn write_bulk_result_fields(w: &mut Writer, r: &BulkResult, charset: Charset) {
    w.leaf(SEQUENCE_NUMBER, &r.sequence.to_string());
    w.leaf(PROCESSING_RESULT_STATUS, r.status.code());
    if let Some((code, message)) = &r.error {
        w.leaf(PROCESSING_RESULT_CODE, code);
        w.leaf(PROCESSING_RESULT_MESSAGE, message);
    }
    w.leaf_opt(QUALIFICATION_VALIDITY, r.validity.map(|v| v.code()));
    if !r.records.is_empty() {
        w.open(RESULT_LIST);
        for q in &r.records {
            qualification::write(w, q, charset);
        }
        w.close(RESULT_LIST);
    }
}

/// Writes a whole response document.
pub fn write_response(r: &ParsedResponse) -> Result<Vec<u8>, OqsError> {
    let mut w = Writer::new(r.header.charset);
    w.open(XML_MSG);
    write_header(&mut w, &r.header);
    write_body(&mut w, &r.body, r.header.charset);
    w.close(XML_MSG);
    w.finish()
}

fn normal_header(
    req: &RequestHeader,
    reference: ReferenceClassification,
    segment: SegmentOfResult,
    processed_at: NaiveDateTime,
    charset: Charset,
) -> ResponseHeader {
    ResponseHeader {
        processed_at,
        confirmation_date: req.confirmation_date.unwrap_or(processed_at.date()),
        institution: Some(req.institution),
        file_id: req.file_id.clone(),
        reference,
        segment,
        error: None,
        charset,
    }
}

fn ok_body() -> ResponseBody {
    ResponseBody {
        status: ProcessingResultStatus::Normal,
        result_code: None,
        result_message: None,
        validity: None,
        records: Vec::new(),
        reception_number: None,
        reference_number: None,
        bulk_results: Vec::new(),
        bulk_units: Vec::new(),
    }
}

/// The `res/` answer to an `OQSsiquc01` request: the center's result, in `charset` (the
/// request's).
pub fn eligibility_response(
    req: &RequestHeader,
    result: &EligibilityResult,
    charset: Charset,
) -> Result<Vec<u8>, OqsError> {
    let mut header = normal_header(
        req,
        result.reference,
        SegmentOfResult::Normal,
        result.processed_at,
        charset,
    );
    header.confirmation_date = result.as_of;
    write_response(&ParsedResponse {
        header,
        body: ResponseBody {
            validity: Some(result.validity),
            records: result.records.clone(),
            ..ok_body()
        },
    })
}

/// The content of a `face/` file: a reception at the card reader, the same body as
/// [`eligibility_response`] without an `ArbitraryFileIdentifier`.
pub fn face_result(
    institution: InstitutionCode,
    result: &EligibilityResult,
    charset: Charset,
) -> Result<Vec<u8>, OqsError> {
    let req = RequestHeader {
        confirmation_date: Some(result.as_of),
        institution,
        file_id: None,
    };
    eligibility_response(&req, result, charset)
}

/// The answer to an `OQSmuquc01` request: accepted, still processing, with the 受付番号
/// to fetch the result with (`OQSmuquc02`).
pub fn bulk_accepted_response(
    req: &RequestHeader,
    reception_number: &str,
    processed_at: NaiveDateTime,
    charset: Charset,
) -> Result<Vec<u8>, OqsError> {
    write_response(&ParsedResponse {
        header: normal_header(
            req,
            ReferenceClassification::InsuranceData,
            SegmentOfResult::Processing,
            processed_at,
            charset,
        ),
        body: ResponseBody {
            reception_number: Some(reception_number.to_owned()),
            ..ok_body()
        },
    })
}

/// How a finished bulk answer lists its patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkLayout {
    /// `OQSmuquc02`: `QualificationConfirmResultList/QualificationConfirmResult`.
    ResultList,
    /// `OQSmuhvq02` / `OQSmuonq02`: one `BulkConfirmUnit` per patient, directly in the
    /// body.
    ConfirmUnits,
}

/// The answer to a bulk fetch whose check is finished: one [`BulkResult`] per patient,
/// with the 受付番号, in `layout`.
pub fn bulk_result_response(
    req: &RequestHeader,
    reception_number: &str,
    as_of: NaiveDate,
    results: Vec<BulkResult>,
    layout: BulkLayout,
    processed_at: NaiveDateTime,
    charset: Charset,
) -> Result<Vec<u8>, OqsError> {
    let mut header = normal_header(
        req,
        ReferenceClassification::InsuranceData,
        SegmentOfResult::Normal,
        processed_at,
        charset,
    );
    header.confirmation_date = as_of;
    write_response(&ParsedResponse {
        header,
        body: match layout {
            BulkLayout::ResultList => ResponseBody {
                reception_number: Some(reception_number.to_owned()),
                bulk_results: results,
                ..ok_body()
            },
            BulkLayout::ConfirmUnits => ResponseBody {
                reception_number: Some(reception_number.to_owned()),
                bulk_units: results,
                ..ok_body()
            },
        },
    })
}

/// The answer to an `OQSsiimm01` request: the 照会番号 was registered.
pub fn registration_response(
    req: &RequestHeader,
    reference_number: &str,
    processed_at: NaiveDateTime,
    charset: Charset,
) -> Result<Vec<u8>, OqsError> {
    write_response(&ParsedResponse {
        header: normal_header(
            req,
            ReferenceClassification::InsuranceData,
            SegmentOfResult::Normal,
            processed_at,
            charset,
        ),
        body: ResponseBody {
            reference_number: Some(reference_number.to_owned()),
            ..ok_body()
        },
    })
}

/// The answer to a request that could not be processed: `SegmentOfResult` 9 with the
/// error's code and Japanese message in the header, `ProcessingResultStatus` 2 in the
/// body. `req` is the request's header when it was readable (see
/// [`crate::salvage_header`]). Never fails: a message that cannot be written as is
/// loses its control characters.
pub fn error_response(
    req: Option<&RequestHeader>,
    error: &OqsError,
    processed_at: NaiveDateTime,
    charset: Charset,
) -> Vec<u8> {
    let message: String = error
        .message_ja()
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    let code = error.code();
    let response = ParsedResponse {
        header: ResponseHeader {
            processed_at,
            confirmation_date: req
                .and_then(|r| r.confirmation_date)
                .unwrap_or(processed_at.date()),
            institution: req.map(|r| r.institution),
            file_id: req.and_then(|r| r.file_id.clone()),
            reference: ReferenceClassification::InsuranceData,
            segment: SegmentOfResult::Abnormal,
            error: Some((code.as_str().to_owned(), message.clone())),
            charset,
        },
        body: ResponseBody {
            status: ProcessingResultStatus::Error,
            result_code: Some(code.as_str().to_owned()),
            result_message: Some(message),
            ..ok_body()
        },
    };
    write_response(&response).unwrap_or_else(|_| fallback_error(code, processed_at))
}

/// A last-resort error document in ASCII (valid in both encodings).
fn fallback_error(code: ErrorCode, at: NaiveDateTime) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{XML_MSG}><{MESSAGE_HEADER}>\
         <{PROCESS_EXECUTION_TIME}>{}</{PROCESS_EXECUTION_TIME}>\
         <{SEGMENT_OF_RESULT}>9</{SEGMENT_OF_RESULT}><{ERROR_CODE}>{code}</{ERROR_CODE}>\
         <{CHARACTER_CODE_IDENTIFIER}>0</{CHARACTER_CODE_IDENTIFIER}>\
         <{RESULT_CODE}>2</{RESULT_CODE}><{MESSAGE_CONTENTS}>{code}</{MESSAGE_CONTENTS}>\
         </{MESSAGE_HEADER}>\
         <{MESSAGE_BODY}><{PROCESSING_RESULT_STATUS}>2</{PROCESSING_RESULT_STATUS}>\
         </{MESSAGE_BODY}></{XML_MSG}>\n",
        format_time(at)
    )
    .into_bytes()
}

fn code<T>(
    e: &Element,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, onshi_model::ModelError>,
) -> Result<Option<T>, OqsError> {
    e.opt_text(name)?
        .map(|s| parse(s).map_err(|err| OqsError::invalid(name, err)))
        .transpose()
}

pub(crate) fn required<T>(
    e: &Element,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, onshi_model::ModelError>,
) -> Result<T, OqsError> {
    code(e, name, parse)?.ok_or(OqsError::MissingElement(name))
}

/// Reads a response or `face/` file back into values.
pub fn parse_response(bytes: &[u8]) -> Result<ParsedResponse, OqsError> {
    let (charset, root) = read_root(bytes)?;
    let h = root.require(MESSAGE_HEADER)?;
    let stated = required(h, CHARACTER_CODE_IDENTIFIER, CharacterCodeIdentifier::parse)?;
    if stated != charset {
        return Err(OqsError::InvalidValue {
            element: CHARACTER_CODE_IDENTIFIER,
            detail: format!(
                "{} ですが XML 宣言は {} です",
                stated.label(),
                charset.label()
            ),
        });
    }
    let error = match h.opt_text(ERROR_CODE)? {
        Some(c) => Some((
            c.to_owned(),
            h.opt_text(ERROR_MESSAGE)?.unwrap_or("").to_owned(),
        )),
        None => None,
    };
    let header = ResponseHeader {
        processed_at: parse_time(h, PROCESS_EXECUTION_TIME)?
            .ok_or(OqsError::MissingElement(PROCESS_EXECUTION_TIME))?,
        confirmation_date: crate::request::date(h, QUALIFICATION_CONFIRMATION_DATE)?,
        institution: code(h, MEDICAL_INSTITUTION_CODE, InstitutionCode::parse)?,
        file_id: h.opt_text(ARBITRARY_FILE_IDENTIFIER)?.map(str::to_owned),
        reference: required(h, REFERENCE_CLASSIFICATION, ReferenceClassification::parse)?,
        segment: required(h, SEGMENT_OF_RESULT, SegmentOfResult::parse)?,
        error,
        charset,
    };
    let b = root.require(MESSAGE_BODY)?;
    let records = match b.child(RESULT_LIST)? {
        Some(list) => list
            .all(RESULT)
            .map(qualification::read)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let bulk_results = match b.child(BULK_RESULT_LIST)? {
        Some(list) => list
            .all(BULK_RESULT)
            .map(read_bulk_result)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let bulk_units = b
        .all(BULK_CONFIRM_UNIT)
        .map(read_bulk_result)
        .collect::<Result<Vec<_>, _>>()?;
    let body = ResponseBody {
        bulk_results,
        bulk_units,
        status: required(b, PROCESSING_RESULT_STATUS, ProcessingResultStatus::parse)?,
        result_code: b.opt_text(PROCESSING_RESULT_CODE)?.map(str::to_owned),
        result_message: b.opt_text(PROCESSING_RESULT_MESSAGE)?.map(str::to_owned),
        validity: code(b, QUALIFICATION_VALIDITY, QualificationValidity::parse)?,
        records,
        reception_number: b.opt_text(RECEPTION_NUMBER)?.map(str::to_owned),
        reference_number: b.opt_text(REFERENCE_NUMBER)?.map(str::to_owned),
    };
    Ok(ParsedResponse { header, body })
}

fn read_bulk_result(e: &Element) -> Result<BulkResult, OqsError> {
    let seq = e.text_of(SEQUENCE_NUMBER)?;
    let sequence = seq
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| OqsError::InvalidValue {
            element: SEQUENCE_NUMBER,
            detail: format!("{seq:?} は 1 以上の数ではありません"),
        })?;
    let error = match e.opt_text(PROCESSING_RESULT_CODE)? {
        Some(c) => Some((
            c.to_owned(),
            e.opt_text(PROCESSING_RESULT_MESSAGE)?
                .unwrap_or("")
                .to_owned(),
        )),
        None => None,
    };
    Ok(BulkResult {
        sequence,
        status: required(e, PROCESSING_RESULT_STATUS, ProcessingResultStatus::parse)?,
        error,
        validity: code(e, QUALIFICATION_VALIDITY, QualificationValidity::parse)?,
        records: match e.child(RESULT_LIST)? {
            Some(list) => list
                .all(RESULT)
                .map(qualification::read)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        },
    })
}

pub(crate) fn opt_date(e: &Element, name: &'static str) -> Result<Option<NaiveDate>, OqsError> {
    code(e, name, onshi_model::parse_yyyymmdd)
}

pub(crate) fn opt_code<T>(
    e: &Element,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, onshi_model::ModelError>,
) -> Result<Option<T>, OqsError> {
    code(e, name, parse)
}
