//! The request messages an EMR writes to `req/`.

use chrono::NaiveDate;
use onshi_model::{
    BranchNumber, CharacterCodeIdentifier, ConsentFlag, InstitutionCode, InsuranceDataQuery,
    InsuredCardSymbol, InsuredNumber, InsurerNumber, parse_yyyymmdd,
};

use crate::charset::{self, Charset};
use crate::error::OqsError;
use crate::files::MessageKind;
use crate::history::HistoryRequest;
use crate::names::*;
use crate::xml::{self, Element};

/// Longest `ArbitraryFileIdentifier` accepted (the EMR's own id, echoed back).
pub const MAX_FILE_IDENTIFIER: usize = 100;
/// Longest 照会番号 (docs/reference.md §5).
pub const MAX_REFERENCE_NUMBER: usize = 50;
/// Most patients in one bulk request.
pub const MAX_BULK: usize = 10_000;

/// `MessageHeader` of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// QualificationConfirmationDate: the date the qualification is checked for.
    /// Required in `OQSsiquc01` and `OQSsiimm01`; bulk requests may leave it out (public
    /// clients write only `MedicalInstitutionCode` in the header of a bulk fetch).
    pub confirmation_date: Option<NaiveDate>,
    /// MedicalInstitutionCode (10 digits).
    pub institution: InstitutionCode,
    /// ArbitraryFileIdentifier: the EMR's own id, echoed in the response.
    ///
    /// Invariant: 1–100 characters, no control characters.
    pub file_id: Option<String>,
}

/// `OQSsiquc01`: one patient by the data of an insurance card or 資格確認書.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleRequest {
    pub query: InsuranceDataQuery,
}

/// `OQSmuquc01`: several patients at once (one `QualificationConfirmSearchInfo` each,
/// directly in `MessageBody` or inside a `QualificationConfirmSearchInfoList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkSubmitRequest {
    /// Invariant: 1 to [`MAX_BULK`] queries, in the order of the file.
    pub queries: Vec<InsuranceDataQuery>,
}

/// `OQSmuquc02`: the result of an earlier bulk request, by its `ReceptionNumber`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkFetchRequest {
    /// 受付番号. Invariant: 1–50 ASCII letters, digits or `-`.
    pub reception_number: String,
}

/// `OQSsiimm01`: registers the clinic's 照会番号 (its own patient id) for a qualification.
///
/// The body is onshi's design (no public sample exists): `MessageBody` holds the
/// qualification as a `QualificationConfirmSearchInfo` (its `LimitApplication…ConsFlg` is
/// ignored) and a `ReferenceNumber` of at most 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRegistration {
    pub query: InsuranceDataQuery,
    /// Invariant: 1–50 characters, no control characters, no surrounding space.
    pub reference_number: String,
}

/// What a 訪問診療 / オンライン診療 bulk search is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HomeCare {
    /// 訪問診療 (`MedicalTreatmentFlag` 2).
    HomeVisit,
    /// オンライン診療 (`MedicalTreatmentFlag` 3).
    Online,
}

/// The days a bulk search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchDates {
    /// `ConsentDateFrom` / `ConsentDateTo`: the days the patients consented at home.
    Consented { from: NaiveDate, to: NaiveDate },
    /// `ExaminationDateFrom` / `ExaminationDateTo` (オンライン診療): the examination days.
    Examination { from: NaiveDate, to: NaiveDate },
}

/// `OQSmuhvq01` / `OQSmuonq01`: the patients who consented at home to this institution,
/// as a public clinic client asks for them (`MessageBody/QualificationConfirmSearchInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeCareSearch {
    pub care: HomeCare,
    pub dates: SearchDates,
}

/// The body of a request, by message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    Single(SingleRequest),
    BulkSubmit(BulkSubmitRequest),
    BulkFetch(BulkFetchRequest),
    RegisterReference(ReferenceRegistration),
    Medication(HistoryRequest),
    Checkups(HistoryRequest),
    HomeCareSearch(HomeCareSearch),
}

/// A request read from a file: the encoding it used (the response uses it too), its
/// header and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    pub charset: Charset,
    pub header: RequestHeader,
    pub request: Request,
}

/// Reads a request file of the given kind (see [`MessageKind::from_request_file_name`]).
pub fn parse_request(kind: MessageKind, bytes: &[u8]) -> Result<ParsedRequest, OqsError> {
    let (charset, root) = read_root(bytes)?;
    let header = parse_header(&root, charset)?;
    if header.confirmation_date.is_none()
        && matches!(
            kind,
            MessageKind::SingleCheck | MessageKind::RegisterReference
        )
    {
        return Err(OqsError::MissingElement(QUALIFICATION_CONFIRMATION_DATE));
    }
    let body = root.require(MESSAGE_BODY)?;
    let request = match kind {
        MessageKind::SingleCheck => Request::Single(SingleRequest {
            query: search_info(body.require(SEARCH_INFO)?)?,
        }),
        MessageKind::BulkSubmit => {
            let list = body.child(SEARCH_INFO_LIST)?.unwrap_or(body);
            let queries = list
                .all(SEARCH_INFO)
                .take(MAX_BULK + 1)
                .map(search_info)
                .collect::<Result<Vec<_>, _>>()?;
            if queries.is_empty() {
                return Err(OqsError::MissingElement(SEARCH_INFO));
            }
            if queries.len() > MAX_BULK {
                return Err(OqsError::InvalidValue {
                    element: SEARCH_INFO,
                    detail: format!("{MAX_BULK} 件を超えています"),
                });
            }
            Request::BulkSubmit(BulkSubmitRequest { queries })
        }
        MessageKind::HomeVisitSearch | MessageKind::OnlineSearch => {
            let care = if kind == MessageKind::HomeVisitSearch {
                HomeCare::HomeVisit
            } else {
                HomeCare::Online
            };
            Request::HomeCareSearch(home_care_search(care, body.require(SEARCH_INFO)?)?)
        }
        MessageKind::BulkFetch | MessageKind::HomeVisitFetch | MessageKind::OnlineFetch => {
            let n = body.text_of(RECEPTION_NUMBER)?;
            if n.len() > 50 || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(OqsError::InvalidValue {
                    element: RECEPTION_NUMBER,
                    detail: "英数字 50 文字以内ではありません".into(),
                });
            }
            Request::BulkFetch(BulkFetchRequest {
                reception_number: n.to_owned(),
            })
        }
        MessageKind::Medication | MessageKind::Checkups => {
            let req = crate::history::parse_request(root.require(MESSAGE_HEADER)?, body)?;
            if kind == MessageKind::Medication {
                Request::Medication(req)
            } else {
                Request::Checkups(req)
            }
        }
        MessageKind::RegisterReference => {
            let query = search_info(body.require(SEARCH_INFO)?)?;
            let reference_number = reference_number(body.text_of(REFERENCE_NUMBER)?)?;
            Request::RegisterReference(ReferenceRegistration {
                query,
                reference_number,
            })
        }
    };
    Ok(ParsedRequest {
        charset,
        header,
        request,
    })
}

/// What can be read of a request that [`parse_request`] refused, for the error response:
/// its encoding (UTF-8 when even that is unreadable) and its header when that is valid.
pub fn salvage_header(bytes: &[u8]) -> (Charset, Option<RequestHeader>) {
    let charset = charset::declared(bytes).unwrap_or(CharacterCodeIdentifier::Utf8);
    let header = read_root(bytes)
        .ok()
        .and_then(|(cs, root)| parse_header(&root, cs).ok());
    (charset, header)
}

/// Decodes, parses and checks the root element.
pub(crate) fn read_root(bytes: &[u8]) -> Result<(Charset, Element), OqsError> {
    if bytes.len() > crate::MAX_FILE_BYTES {
        return Err(OqsError::TooLarge {
            actual: bytes.len(),
            limit: crate::MAX_FILE_BYTES,
        });
    }
    let (charset, text) = charset::decode(bytes)?;
    let root = xml::parse(&text)?;
    if root.name != XML_MSG {
        return Err(OqsError::WrongMessage {
            expected: XML_MSG,
            found: root.name,
        });
    }
    Ok((charset, root))
}

fn parse_header(root: &Element, charset: Charset) -> Result<RequestHeader, OqsError> {
    let h = root.require(MESSAGE_HEADER)?;
    // A request that states its encoding must state the one it is written in.
    if let Some(code) = h.opt_text(CHARACTER_CODE_IDENTIFIER)? {
        let stated = CharacterCodeIdentifier::parse(code)
            .map_err(|e| OqsError::invalid(CHARACTER_CODE_IDENTIFIER, e))?;
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
    }
    Ok(RequestHeader {
        confirmation_date: h
            .opt_text(QUALIFICATION_CONFIRMATION_DATE)?
            .map(|s| {
                parse_yyyymmdd(s).map_err(|e| OqsError::invalid(QUALIFICATION_CONFIRMATION_DATE, e))
            })
            .transpose()?,
        institution: InstitutionCode::parse(h.text_of(MEDICAL_INSTITUTION_CODE)?)
            .map_err(|e| OqsError::invalid(MEDICAL_INSTITUTION_CODE, e))?,
        file_id: h
            .opt_text(ARBITRARY_FILE_IDENTIFIER)?
            .map(|id| {
                let ok =
                    id.chars().count() <= MAX_FILE_IDENTIFIER && !id.chars().any(char::is_control);
                ok.then(|| id.to_owned()).ok_or(OqsError::InvalidValue {
                    element: ARBITRARY_FILE_IDENTIFIER,
                    detail: format!("{MAX_FILE_IDENTIFIER} 文字以内ではありません"),
                })
            })
            .transpose()?,
    })
}

pub(crate) fn date(e: &Element, name: &'static str) -> Result<NaiveDate, OqsError> {
    parse_yyyymmdd(e.text_of(name)?).map_err(|err| OqsError::invalid(name, err))
}

fn search_info(e: &Element) -> Result<InsuranceDataQuery, OqsError> {
    let limit_consent = match e.opt_text(LIMIT_CONS_FLG)? {
        None => false,
        Some(flag) => {
            ConsentFlag::parse(flag).map_err(|err| OqsError::invalid(LIMIT_CONS_FLG, err))?
                == ConsentFlag::Consented
        }
    };
    Ok(InsuranceDataQuery {
        insurer_number: InsurerNumber::parse(e.text_of(INSURER_NUMBER)?)
            .map_err(|err| OqsError::invalid(INSURER_NUMBER, err))?,
        symbol: e
            .opt_text(INSURED_CARD_SYMBOL)?
            .map(|s| {
                InsuredCardSymbol::parse(s)
                    .map_err(|err| OqsError::invalid(INSURED_CARD_SYMBOL, err))
            })
            .transpose()?,
        number: InsuredNumber::parse(e.text_of(INSURED_IDENTIFICATION_NUMBER)?)
            .map_err(|err| OqsError::invalid(INSURED_IDENTIFICATION_NUMBER, err))?,
        branch: e
            .opt_text(INSURED_BRANCH_NUMBER)?
            .map(|s| {
                BranchNumber::parse(s).map_err(|err| OqsError::invalid(INSURED_BRANCH_NUMBER, err))
            })
            .transpose()?,
        birth_date: date(e, BIRTHDATE)?,
        limit_consent,
    })
}

fn reference_number(s: &str) -> Result<String, OqsError> {
    let n = s.chars().count();
    if n > MAX_REFERENCE_NUMBER || s.chars().any(char::is_control) || s.trim() != s {
        return Err(OqsError::InvalidValue {
            element: REFERENCE_NUMBER,
            detail: format!("{MAX_REFERENCE_NUMBER} 文字以内ではありません（{n} 文字）"),
        });
    }
    Ok(s.to_owned())
}

fn home_care_search(care: HomeCare, e: &Element) -> Result<HomeCareSearch, OqsError> {
    let day = |name: &'static str| -> Result<Option<NaiveDate>, OqsError> {
        e.opt_text(name)?
            .map(|s| parse_yyyymmdd(s).map_err(|err| OqsError::invalid(name, err)))
            .transpose()
    };
    let pair = |from: &'static str,
                to: &'static str|
     -> Result<Option<(NaiveDate, NaiveDate)>, OqsError> {
        match (day(from)?, day(to)?) {
            (None, None) => Ok(None),
            (Some(f), Some(t)) if f <= t => Ok(Some((f, t))),
            (Some(_), Some(_)) => Err(OqsError::InvalidValue {
                element: from,
                detail: format!("{to} より後です"),
            }),
            (None, Some(_)) => Err(OqsError::MissingElement(from)),
            (Some(_), None) => Err(OqsError::MissingElement(to)),
        }
    };
    let consented = pair(CONSENT_DATE_FROM, CONSENT_DATE_TO)?;
    let examined = pair(EXAMINATION_DATE_FROM, EXAMINATION_DATE_TO)?;
    let dates = match (consented, examined, care) {
        (Some((from, to)), None, _) => SearchDates::Consented { from, to },
        (None, Some((from, to)), HomeCare::Online) => SearchDates::Examination { from, to },
        (None, Some(_), HomeCare::HomeVisit) => {
            return Err(OqsError::InvalidValue {
                element: EXAMINATION_DATE_FROM,
                detail: "訪問診療は同意日（ConsentDateFrom/To）で照会します".into(),
            });
        }
        (Some(_), Some(_), _) => return Err(OqsError::DuplicateElement(EXAMINATION_DATE_FROM)),
        (None, None, _) => return Err(OqsError::MissingElement(CONSENT_DATE_FROM)),
    };
    let want = match care {
        HomeCare::HomeVisit => "2",
        HomeCare::Online => "3",
    };
    if let Some(flag) = e.opt_text(MEDICAL_TREATMENT_FLAG)?
        && flag != want
    {
        return Err(OqsError::InvalidValue {
            element: MEDICAL_TREATMENT_FLAG,
            detail: format!("この電文では {want} です（{flag:?}）"),
        });
    }
    Ok(HomeCareSearch { care, dates })
}
