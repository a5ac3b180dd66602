//! The terminal's folder interface for EMRs: a watcher of a directory with `req/`, `res/`
//! and `face/`. The EMR writes `req/<prefix>req_*.xml`; the watcher reads it once it is
//! complete, asks the center and writes the answer atomically to `res/<prefix>res_*.xml`
//! (a hidden temporary file, fsync, rename), then moves the request to `req/done/` (or to
//! `req/error/` when it was answered with an error). It reacts to file-system events
//! (inotify on Linux) and, on start, first answers every request already waiting. A
//! request whose response already exists is not answered again. Nothing a request holds,
//! and no failure of the center, stops the watcher.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};
use onshi_model::{
    EligibilityResult, InstitutionCode, InsuranceDataQuery, ProcessingResultStatus,
    ReferenceClassification, SegmentOfResult,
};
use onshi_oqs::{
    Charset, ErrorCode, MessageKind, OqsError, ParsedResponse, Request, RequestHeader,
    ResponseBody, ResponseHeader,
};

use crate::center::{BlockingCenter, CenterError};
use crate::emr::BulkCheck;
use crate::wire::{HistoryByCard, HistoryByCardBody, HistoryKind};

/// `ErrorCode` of an answer when the center could not be reached: retry later.
pub const CENTER_UNREACHABLE: &str = "E4001";
/// `ErrorCode` of an answer when the center refused the query.
pub const CENTER_REFUSED: &str = "E4002";
/// `ErrorCode` of an answer to a request for another institution than the terminal's.
pub const INSTITUTION_MISMATCH: &str = "E4004";

/// Sub-directories of the request folder.
pub const DONE_DIR: &str = "done";
/// Requests answered with an error.
pub const ERROR_DIR: &str = "error";

/// The center as the folder watcher needs it.
pub trait InsuranceCenter {
    /// `POST /v1/eligibility/insurance-data`.
    fn check_insurance_data(
        &mut self,
        institution: &InstitutionCode,
        query: &InsuranceDataQuery,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<EligibilityResult, CenterError>;

    /// `POST /v1/reference-numbers` (`OQSsiimm01`).
    fn register_reference_number(
        &mut self,
        institution: &InstitutionCode,
        query: &InsuranceDataQuery,
        as_of: Option<chrono::NaiveDate>,
        reference_number: &str,
    ) -> Result<(), CenterError>;

    /// `POST /v1/eligibility/bulk` (`OQSmuquc01`).
    fn submit_bulk(
        &mut self,
        institution: &InstitutionCode,
        queries: &[InsuranceDataQuery],
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<BulkCheck, CenterError>;

    /// `GET /v1/eligibility/bulk/{reception_number}` (`OQSmuquc02`, `OQSmuhvq02`,
    /// `OQSmuonq02`).
    fn fetch_bulk(&mut self, reception_number: &str) -> Result<BulkCheck, CenterError>;

    /// `POST /v1/eligibility/home-consents` (`OQSmuhvq01`, `OQSmuonq01`).
    fn search_home_consents(
        &mut self,
        institution: &InstitutionCode,
        search: &onshi_oqs::HomeCareSearch,
    ) -> Result<BulkCheck, CenterError>;

    /// `POST /v1/history/{kind}` (`YZKsiquc01`, `TKKsiquc01`).
    fn history_by_card(
        &mut self,
        kind: HistoryKind,
        body: &HistoryByCardBody<'_>,
    ) -> Result<HistoryByCard, CenterError>;
}

impl InsuranceCenter for BlockingCenter {
    fn check_insurance_data(
        &mut self,
        institution: &InstitutionCode,
        query: &InsuranceDataQuery,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<EligibilityResult, CenterError> {
        BlockingCenter::check_insurance_data(self, institution, query, as_of)
    }

    fn register_reference_number(
        &mut self,
        institution: &InstitutionCode,
        query: &InsuranceDataQuery,
        as_of: Option<chrono::NaiveDate>,
        reference_number: &str,
    ) -> Result<(), CenterError> {
        BlockingCenter::register_reference_number(self, institution, query, as_of, reference_number)
    }

    fn submit_bulk(
        &mut self,
        institution: &InstitutionCode,
        queries: &[InsuranceDataQuery],
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<BulkCheck, CenterError> {
        BlockingCenter::submit_bulk(self, institution, queries, as_of)
    }

    fn fetch_bulk(&mut self, reception_number: &str) -> Result<BulkCheck, CenterError> {
        BlockingCenter::fetch_bulk(self, reception_number)
    }

    fn search_home_consents(
        &mut self,
        institution: &InstitutionCode,
        search: &onshi_oqs::HomeCareSearch,
    ) -> Result<BulkCheck, CenterError> {
        BlockingCenter::search_home_consents(self, institution, search)
    }

    fn history_by_card(
        &mut self,
        kind: HistoryKind,
        body: &HistoryByCardBody<'_>,
    ) -> Result<HistoryByCard, CenterError> {
        BlockingCenter::history_by_card(self, kind, body)
    }
}

/// Errors that stop the watcher: the folder itself cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FolderError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("file-system events: {0}")]
    Watch(#[from] notify::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FolderError + '_ {
    move |source| FolderError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What became of one request file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered with the center's result; the request is in `req/done/`.
    Answered,
    /// Answered with an error response (its code); the request is in `req/error/`.
    Error(String),
    /// A response already existed: the request was moved to `req/done/` unanswered.
    AlreadyAnswered,
    /// A file name outside the interface: moved to `req/error/`, no response possible.
    NotARequest,
    /// The file is gone (already processed) or is not a request file (hidden, a folder).
    Ignored,
}

/// Settings of the watcher.
#[derive(Debug, Clone)]
pub struct FolderConfig {
    /// The folder holding `req/`, `res/` and `face/`.
    pub dir: PathBuf,
    /// The terminal's institution (from its certificate).
    pub institution: InstitutionCode,
    /// Reads of a file that ends early before it is answered as truncated.
    pub truncated_retries: u32,
    /// Wait between those reads.
    pub retry_delay: Duration,
    /// How long a created file may stay open before it is read anyway (a writer that
    /// never closes, or a file linked in without a close event).
    pub settle: Duration,
}

impl FolderConfig {
    /// Defaults: 5 retries 200 ms apart, 2 s settle time.
    pub fn new(dir: impl Into<PathBuf>, institution: InstitutionCode) -> Self {
        Self {
            dir: dir.into(),
            institution,
            truncated_retries: 5,
            retry_delay: Duration::from_millis(200),
            settle: Duration::from_secs(2),
        }
    }
}

/// The folder watcher over a center.
pub struct Folder<C> {
    config: FolderConfig,
    center: C,
    now: fn() -> NaiveDateTime,
}

fn now_jst() -> NaiveDateTime {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST offset");
    chrono::Utc::now().with_timezone(&jst).naive_local()
}

impl<C: InsuranceCenter> Folder<C> {
    /// A watcher of `config.dir`; creates `req/` (with `done/`, `error/`), `res/` and
    /// `face/` when missing.
    pub fn new(config: FolderConfig, center: C) -> Result<Self, FolderError> {
        for d in [
            config.dir.join("req").join(DONE_DIR),
            config.dir.join("req").join(ERROR_DIR),
            config.dir.join("res"),
            config.dir.join("face"),
        ] {
            fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        Ok(Self {
            config,
            center,
            now: now_jst,
        })
    }

    fn req(&self) -> PathBuf {
        self.config.dir.join("req")
    }

    fn res(&self) -> PathBuf {
        self.config.dir.join("res")
    }

    /// Answers every request already in `req/`, in name order.
    pub fn process_backlog(&mut self) -> Result<Vec<(String, Outcome)>, FolderError> {
        let req = self.req();
        let mut names: Vec<String> = fs::read_dir(&req)
            .map_err(io_err(&req))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names
            .into_iter()
            .map(|n| {
                let o = self.process(&n);
                (n, o)
            })
            .collect())
    }

    /// Watches `req/` until the event source fails: calls `ready` once the events are
    /// registered, answers the backlog, then every request as it is completed.
    pub fn run(&mut self, ready: impl FnOnce()) -> Result<(), FolderError> {
        let (tx, rx) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(tx)?;
        let req = self.req();
        watcher.watch(&req, RecursiveMode::NonRecursive)?;
        ready();
        for (name, outcome) in self.process_backlog()? {
            log(&name, &outcome);
        }
        // Files created but not yet closed, with the time they were first seen.
        let mut open: HashMap<String, Instant> = HashMap::new();
        loop {
            let timeout = open
                .values()
                .map(|t| (*t + self.config.settle).saturating_duration_since(Instant::now()))
                .min()
                .unwrap_or(Duration::from_secs(3600));
            match rx.recv_timeout(timeout) {
                Ok(Ok(event)) => {
                    let complete = match event.kind {
                        EventKind::Access(AccessKind::Close(AccessMode::Write))
                        | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
                            true
                        }
                        EventKind::Create(CreateKind::File | CreateKind::Any) => false,
                        _ => continue,
                    };
                    for path in event.paths {
                        if path.parent() != Some(req.as_path()) {
                            continue;
                        }
                        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                            continue;
                        };
                        if complete {
                            open.remove(name);
                            let outcome = self.process(name);
                            log(name, &outcome);
                        } else {
                            open.entry(name.to_owned()).or_insert_with(Instant::now);
                        }
                    }
                }
                Ok(Err(e)) => eprintln!("folder: file-system event error: {e}"),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
            let due: Vec<String> = open
                .iter()
                .filter(|(_, t)| t.elapsed() >= self.config.settle)
                .map(|(n, _)| n.clone())
                .collect();
            for name in due {
                open.remove(&name);
                let outcome = self.process(&name);
                log(&name, &outcome);
            }
        }
    }

    /// Answers one file of `req/` by name. Never panics on the file's content.
    pub fn process(&mut self, name: &str) -> Outcome {
        let path = self.req().join(name);
        if name.starts_with('.') || !path.is_file() {
            return Outcome::Ignored;
        }
        let (kind, res_name) = match onshi_oqs::MessageKind::from_request_file_name(name)
            .and_then(|k| Ok((k, onshi_oqs::response_file_name(name)?)))
        {
            Ok(v) => v,
            Err(_) => {
                // A message of the interface that onshi does not implement is answered,
                // so the EMR shows why instead of waiting; any other name is not ours.
                let outcome = match onshi_oqs::unsupported_request(name) {
                    Some((prefix, res_name)) if !self.res().join(&res_name).exists() => {
                        let bytes = read_limited(&path).unwrap_or_default();
                        let (charset, header) = onshi_oqs::salvage_header(&bytes);
                        let e = OqsError::UnsupportedMessage(prefix);
                        let answer =
                            onshi_oqs::error_response(header.as_ref(), &e, (self.now)(), charset);
                        if let Err(err) = write_atomically(&self.res(), &res_name, &answer) {
                            eprintln!("folder: cannot write {res_name}: {err}");
                            return Outcome::Ignored;
                        }
                        Outcome::Error(e.code().as_str().to_owned())
                    }
                    Some(_) => Outcome::AlreadyAnswered,
                    None => Outcome::NotARequest,
                };
                self.move_to(name, ERROR_DIR);
                return outcome;
            }
        };
        let res_path = self.res().join(&res_name);
        if res_path.exists() {
            self.move_to(name, DONE_DIR);
            return Outcome::AlreadyAnswered;
        }
        let (bytes, outcome) = self.answer(&path, kind);
        if let Err(e) = write_atomically(&self.res(), &res_name, &bytes) {
            // The request stays in req/ and is retried on its next event or restart.
            eprintln!("folder: cannot write {}: {e}", res_path.display());
            return Outcome::Ignored;
        }
        match &outcome {
            Outcome::Answered => self.move_to(name, DONE_DIR),
            _ => self.move_to(name, ERROR_DIR),
        }
        outcome
    }

    /// The response to the request at `path` and what it is.
    fn answer(&mut self, path: &Path, kind: MessageKind) -> (Vec<u8>, Outcome) {
        let now = (self.now)();
        let mut attempt = 0;
        let (bytes, parsed) = loop {
            let bytes = match read_limited(path) {
                Ok(b) => b,
                Err(e) => {
                    return (
                        custom_error(
                            None,
                            Charset::Utf8,
                            now,
                            ErrorCode::MALFORMED.as_str(),
                            &format!("要求ファイルを読み込めませんでした（{e}）。"),
                        ),
                        Outcome::Error(ErrorCode::MALFORMED.as_str().to_owned()),
                    );
                }
            };
            let parsed = onshi_oqs::parse_request(kind, &bytes);
            match &parsed {
                Err(e)
                    if e.code() == ErrorCode::TRUNCATED
                        && attempt < self.config.truncated_retries =>
                {
                    attempt += 1;
                    std::thread::sleep(self.config.retry_delay);
                }
                _ => break (bytes, parsed),
            }
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                let (charset, header) = onshi_oqs::salvage_header(&bytes);
                let code = e.code().as_str().to_owned();
                return (
                    onshi_oqs::error_response(header.as_ref(), &e, now, charset),
                    Outcome::Error(code),
                );
            }
        };
        let fail = |code: &str, message: &str| {
            (
                custom_error(Some(&parsed.header), parsed.charset, now, code, message),
                Outcome::Error(code.to_owned()),
            )
        };
        if parsed.header.institution != self.config.institution {
            return fail(
                INSTITUTION_MISMATCH,
                &format!(
                    "医療機関コード「{}」はこの端末の医療機関コード「{}」と一致しません。",
                    parsed.header.institution.as_str(),
                    self.config.institution.as_str()
                ),
            );
        }
        let institution = self.config.institution;
        let as_of = parsed.header.confirmation_date;
        let (h, cs) = (&parsed.header, parsed.charset);
        let written = match &parsed.request {
            Request::Single(single) => self
                .center
                .check_insurance_data(&institution, &single.query, as_of)
                .map(|result| onshi_oqs::eligibility_response(h, &result, cs)),
            Request::RegisterReference(reg) => self
                .center
                .register_reference_number(&institution, &reg.query, as_of, &reg.reference_number)
                .map(|()| onshi_oqs::registration_response(h, &reg.reference_number, now, cs)),
            Request::BulkSubmit(bulk) => self
                .center
                .submit_bulk(&institution, &bulk.queries, as_of)
                .map(|b| onshi_oqs::bulk_accepted_response(h, &b.reception_number, now, cs)),
            Request::Medication(hist) | Request::Checkups(hist) => 'history: {
                let hk = if kind == MessageKind::Medication {
                    HistoryKind::Medications
                } else {
                    HistoryKind::Checkups
                };
                let card = &hist.card;
                let month = |d: chrono::NaiveDate| d.format("%Y-%m").to_string();
                let body = HistoryByCardBody {
                    insurer_number: card.insurer_number.as_str(),
                    symbol: card.symbol.as_ref().map(|s| s.as_str()),
                    number: card.number.as_str(),
                    branch: card.branch.as_ref().map(|b| b.as_str()),
                    birth_date: None,
                    from: hist.period.map(|p| month(p.start())),
                    to: hist.period.map(|p| month(p.end())),
                };
                let found = match self.center.history_by_card(hk, &body) {
                    Ok(found) => found,
                    Err(e) => break 'history Err(e),
                };
                // "With treatment information": the same patient's operations, when they
                // consented to share those too; no such consent is not an error.
                let treatments = if hk == HistoryKind::Medications && hist.category.with_treatment()
                {
                    let body = HistoryByCardBody {
                        birth_date: Some(found.patient.birth_date),
                        ..body
                    };
                    match self.center.history_by_card(HistoryKind::Surgeries, &body) {
                        Ok(s) => crate::emr::treatment_entries(&found, &s),
                        Err(CenterError::Refused { .. }) => Ok(Vec::new()),
                        Err(e) => break 'history Err(e),
                    }
                } else {
                    Ok(Vec::new())
                };
                let answer = match treatments.and_then(|t| {
                    crate::emr::history_answer(hk, &found, hist.category, hist.period.is_some(), t)
                }) {
                    Ok(a) => a,
                    Err(e) => {
                        return fail(
                            CENTER_UNREACHABLE,
                            &format!("中継サーバーの応答を読み取れませんでした（{e}）。"),
                        );
                    }
                };
                let pdf_name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| onshi_oqs::response_file_name(n).ok())
                    .map(|n| n.replace(".xml", ".pdf").replace(".XML", ".pdf"))
                    .filter(|_| hist.category.pdf());
                if let Some(pdf_name) = &pdf_name {
                    let subtitle = format!(
                        "医療機関コード {}　作成 {}",
                        institution.as_str(),
                        now.format("%Y-%m-%d %H:%M")
                    );
                    if let Err(e) =
                        write_atomically(&self.res(), pdf_name, &answer.to_pdf(&subtitle))
                    {
                        return fail(
                            CENTER_UNREACHABLE,
                            &format!("PDF を書き込めませんでした（{e}）。"),
                        );
                    }
                }
                Ok(onshi_oqs::history_response(
                    h,
                    &answer,
                    pdf_name.as_deref(),
                    now,
                    cs,
                ))
            }
            Request::BulkFetch(fetch) => self
                .center
                .fetch_bulk(&fetch.reception_number)
                .map(|b| bulk_answer(h, b, now, cs, kind)),
            Request::HomeCareSearch(search) => self
                .center
                .search_home_consents(&institution, search)
                .map(|b| onshi_oqs::bulk_accepted_response(h, &b.reception_number, now, cs)),
            _ => {
                let e = OqsError::FileName(kind.prefix().to_owned());
                let code = e.code().as_str().to_owned();
                return (
                    onshi_oqs::error_response(Some(h), &e, now, cs),
                    Outcome::Error(code),
                );
            }
        };
        match written {
            Ok(Ok(bytes)) => (bytes, Outcome::Answered),
            Ok(Err(e)) => {
                let code = e.code().as_str().to_owned();
                (
                    onshi_oqs::error_response(Some(h), &e, now, cs),
                    Outcome::Error(code),
                )
            }
            Err(CenterError::Refused { problem, .. }) => fail(CENTER_REFUSED, &problem.message_ja),
            Err(CenterError::Unreachable { .. }) => fail(
                CENTER_UNREACHABLE,
                "オンライン資格確認の中継サーバーに接続できませんでした。しばらくしてから再度照会してください。",
            ),
            Err(CenterError::Protocol(_)) => fail(
                CENTER_UNREACHABLE,
                "オンライン資格確認の中継サーバーから正しい応答がありませんでした。しばらくしてから再度照会してください。",
            ),
        }
    }

    fn move_to(&self, name: &str, sub: &str) {
        let from = self.req().join(name);
        let to = self.req().join(sub).join(name);
        if let Err(e) = fs::rename(&from, &to) {
            eprintln!(
                "folder: cannot move {} to {}: {e}",
                from.display(),
                to.display()
            );
        }
    }
}

/// The answer to an `OQSmuquc02`: still processing (SegmentOfResult 2, the EMR asks
/// again later with a new file), or one result per patient.
fn bulk_answer(
    req: &RequestHeader,
    bulk: BulkCheck,
    now: NaiveDateTime,
    charset: Charset,
    kind: MessageKind,
) -> Result<Vec<u8>, OqsError> {
    let Some(items) = bulk.results.filter(|_| bulk.status == "done") else {
        return onshi_oqs::bulk_accepted_response(req, &bulk.reception_number, now, charset);
    };
    let results = items
        .into_iter()
        .map(|item| match (item.result, item.error) {
            (Some(r), _) => onshi_oqs::BulkResult {
                sequence: item.index + 1,
                status: ProcessingResultStatus::Normal,
                error: None,
                validity: Some(r.validity),
                records: r.records,
            },
            (None, e) => onshi_oqs::BulkResult {
                sequence: item.index + 1,
                status: ProcessingResultStatus::Error,
                error: Some((
                    CENTER_REFUSED.to_owned(),
                    e.map(|p| p.message_ja)
                        .unwrap_or_else(|| "照会できませんでした。".to_owned()),
                )),
                validity: None,
                records: Vec::new(),
            },
        })
        .collect();
    // 訪問診療 / オンライン診療: one BulkConfirmUnit per patient found.
    let layout = if kind == MessageKind::BulkFetch {
        onshi_oqs::BulkLayout::ResultList
    } else {
        onshi_oqs::BulkLayout::ConfirmUnits
    };
    onshi_oqs::bulk_result_response(
        req,
        &bulk.reception_number,
        bulk.as_of,
        results,
        layout,
        now,
        charset,
    )
}

fn log(name: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Ignored => {}
        Outcome::Answered => eprintln!("folder: {name}: answered"),
        Outcome::Error(code) => eprintln!("folder: {name}: answered with error {code}"),
        Outcome::AlreadyAnswered => eprintln!("folder: {name}: already answered"),
        Outcome::NotARequest => eprintln!("folder: {name}: not a request file name"),
    }
}

/// Reads a request file, refusing one larger than [`onshi_oqs::MAX_FILE_BYTES`].
fn read_limited(path: &Path) -> Result<Vec<u8>, std::io::Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(onshi_oqs::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// An error response with a code and message of the watcher's own.
fn custom_error(
    req: Option<&RequestHeader>,
    charset: Charset,
    processed_at: NaiveDateTime,
    code: &str,
    message: &str,
) -> Vec<u8> {
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
            error: Some((code.to_owned(), message.to_owned())),
            charset,
        },
        body: ResponseBody {
            status: ProcessingResultStatus::Error,
            result_code: Some(code.to_owned()),
            result_message: Some(message.to_owned()),
            validity: None,
            records: Vec::new(),
            reception_number: None,
            reference_number: None,
            bulk_results: Vec::new(),
            bulk_units: Vec::new(),
        },
    };
    onshi_oqs::write_response(&response).unwrap_or_else(|e: OqsError| {
        onshi_oqs::error_response(req, &e, processed_at, Charset::Utf8)
    })
}

/// Writes `dir/name` so that a reader sees either nothing or the whole file: the bytes go
/// to `dir/.name.tmp`, are synced, and the file is renamed into place; the directory is
/// synced after.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type HistoryAnswer =
        fn(HistoryKind, &HistoryByCardBody<'_>) -> Result<HistoryByCard, CenterError>;

    struct Fake {
        answer: fn() -> Result<EligibilityResult, CenterError>,
        history: HistoryAnswer,
        calls: usize,
    }

    impl InsuranceCenter for Fake {
        fn check_insurance_data(
            &mut self,
            _: &InstitutionCode,
            _: &InsuranceDataQuery,
            _: Option<chrono::NaiveDate>,
        ) -> Result<EligibilityResult, CenterError> {
            self.calls += 1;
            (self.answer)()
        }

        fn register_reference_number(
            &mut self,
            _: &InstitutionCode,
            _: &InsuranceDataQuery,
            _: Option<chrono::NaiveDate>,
            _: &str,
        ) -> Result<(), CenterError> {
            self.calls += 1;
            (self.answer)().map(|_| ())
        }

        fn submit_bulk(
            &mut self,
            _: &InstitutionCode,
            _: &[InsuranceDataQuery],
            _: Option<chrono::NaiveDate>,
        ) -> Result<BulkCheck, CenterError> {
            self.calls += 1;
            Err(CenterError::Unreachable {
                reason: "refused".into(),
            })
        }

        fn fetch_bulk(&mut self, _: &str) -> Result<BulkCheck, CenterError> {
            self.calls += 1;
            Err(CenterError::Unreachable {
                reason: "refused".into(),
            })
        }

        fn search_home_consents(
            &mut self,
            _: &InstitutionCode,
            _: &onshi_oqs::HomeCareSearch,
        ) -> Result<BulkCheck, CenterError> {
            self.calls += 1;
            Err(CenterError::Unreachable {
                reason: "refused".into(),
            })
        }

        fn history_by_card(
            &mut self,
            kind: HistoryKind,
            body: &HistoryByCardBody<'_>,
        ) -> Result<HistoryByCard, CenterError> {
            self.calls += 1;
            (self.history)(kind, body)
        }
    }

    fn no_history(_: HistoryKind, _: &HistoryByCardBody<'_>) -> Result<HistoryByCard, CenterError> {
        Err(CenterError::Unreachable {
            reason: "refused".into(),
        })
    }

    fn patient(name: &str) -> crate::wire::HistoryPatient {
        crate::wire::HistoryPatient {
            name: name.into(),
            name_kana: "ｼﾝﾘｮｳ ﾀﾛｳ".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1980, 1, 2).unwrap(),
            sex: "1".into(),
        }
    }

    fn found(name: &str, items: Vec<serde_json::Value>) -> HistoryByCard {
        HistoryByCard {
            patient: patient(name),
            reception: "1".into(),
            consented_at: "2025-06-02T09:30:00+09:00".into(),
            available_until: "2025-06-03T09:30:00+09:00".into(),
            from: chrono::NaiveDate::from_ymd_opt(2022, 6, 2).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
            items,
        }
    }

    fn one_drug() -> serde_json::Value {
        serde_json::json!({
            "dispensed_on": "2025-05-12", "drug_code": "2149039F1020", "drug_name": "アムロジピン錠５ｍｇ",
            "dose": "１日１回朝食後", "quantity": 28.0, "unit": "錠", "days_supplied": 28,
            "prescriber": "1310123458", "prescriber_name": "診療所", "pharmacy": "1341234563",
            "pharmacy_name": "薬局",
        })
    }

    fn one_operation() -> serde_json::Value {
        serde_json::json!({
            "performed_on": "2024-11-05", "code": "K282", "name": "水晶体再建術",
            "institution_code": "1310123458", "institution_name": "診療所",
        })
    }

    /// The patient consented to share operations too: their operation is a treatment row.
    fn same_patient(
        kind: HistoryKind,
        body: &HistoryByCardBody<'_>,
    ) -> Result<HistoryByCard, CenterError> {
        match kind {
            HistoryKind::Medications => Ok(found("診療　太郎", vec![one_drug()])),
            // The second call narrows the family by the first answer's birth date.
            _ => {
                assert_eq!(body.birth_date, Some(patient("").birth_date));
                Ok(found("診療　太郎", vec![one_operation()]))
            }
        }
    }

    /// Another family member consented to share operations: never in this patient's file.
    fn family_member(
        kind: HistoryKind,
        _: &HistoryByCardBody<'_>,
    ) -> Result<HistoryByCard, CenterError> {
        match kind {
            HistoryKind::Medications => Ok(found("診療　太郎", vec![one_drug()])),
            _ => Ok(found("診療　花子", vec![one_operation()])),
        }
    }

    /// No consent to share operations: the drugs alone, still a normal answer.
    fn no_operations_consent(
        kind: HistoryKind,
        _: &HistoryByCardBody<'_>,
    ) -> Result<HistoryByCard, CenterError> {
        match kind {
            HistoryKind::Medications => Ok(found("診療　太郎", vec![one_drug()])),
            _ => Err(CenterError::Refused {
                status: 403,
                code: crate::center::ProblemCode::parse("consent_missing"),
                problem: Box::new(crate::wire::Problem {
                    kind: "urn:onshi:problem:consent_missing".into(),
                    title: "Consent missing".into(),
                    status: 403,
                    code: "consent_missing".into(),
                    message_ja: "手術情報の提供に患者さんの同意がありません。".into(),
                    detail: "no consent".into(),
                    field: None,
                }),
            }),
        }
    }

    #[test]
    fn an_unsupported_bulk_message_is_answered_with_why() {
        let (dir, mut folder, inst) = setup("x");
        // 医療扶助の一括照会 as a public client writes it (Shift_JIS, CRLF).
        let name = "OQSmutic01req_202605140001.xml";
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>\r\n<XmlMsg>\r\n\
             <MessageHeader><MedicalInstitutionCode>{}</MedicalInstitutionCode>\
             <ArbitraryFileIdentifier>20260514093012045C01</ArbitraryFileIdentifier></MessageHeader>\
             <MessageBody><QualificationConfirmSearchInfo>\
             <MedicalTreatmentMonth>202605</MedicalTreatmentMonth>\
             </QualificationConfirmSearchInfo></MessageBody></XmlMsg>\r\n",
            inst.as_str()
        );
        fs::write(dir.path().join("req").join(name), xml).unwrap();
        assert_eq!(folder.process(name), Outcome::Error("E2006".into()));
        let res = fs::read(dir.path().join("res/OQSmutic01res_202605140001.xml")).unwrap();
        let r = onshi_oqs::parse_response(&res).unwrap();
        assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
        assert_eq!(r.header.charset, Charset::ShiftJis);
        assert_eq!(r.header.file_id.as_deref(), Some("20260514093012045C01"));
        assert!(r.body.reception_number.is_none());
        let (code, message) = r.header.error.unwrap();
        assert_eq!(code, "E2006");
        assert!(message.contains("医療扶助の一括照会"), "{message}");
        assert!(dir.path().join("req/error").join(name).exists());
        assert_eq!(folder.center.calls, 0);
        // Written again while answered: not answered twice.
        fs::write(dir.path().join("req").join(name), "x").unwrap();
        assert_eq!(folder.process(name), Outcome::AlreadyAnswered);
    }

    #[test]
    fn treatment_rows_are_the_same_patients_operations_only() {
        let cases: [(HistoryAnswer, usize); 3] = [
            (same_patient, 1),
            (family_member, 0),
            (no_operations_consent, 0),
        ];
        for (i, (history, rows)) in cases.into_iter().enumerate() {
            let (dir, mut folder, inst) = setup("t");
            folder.center.history = history;
            let name = format!("YZKsiquc01req_04{i}.xml");
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XmlMsg><MessageHeader>\
                 <MedicalInstitutionCode>{}</MedicalInstitutionCode><InsurerNumber>138057</InsurerNumber>\
                 <InsuranceCardSymbol>1234</InsuranceCardSymbol>\
                 <InsuredPersonIdentificationNumber>567</InsuredPersonIdentificationNumber>\
                 <BranchNumber></BranchNumber></MessageHeader><MessageBody>\
                 <FileCategory>4</FileCategory></MessageBody></XmlMsg>\n",
                inst.as_str()
            );
            fs::write(dir.path().join("req").join(&name), xml).unwrap();
            assert_eq!(folder.process(&name), Outcome::Answered, "case {i}");
            let res = fs::read(dir.path().join("res").join(name.replace("req_", "res_"))).unwrap();
            let r = onshi_oqs::parse_history_response(&res).unwrap();
            let answer = r.answer.unwrap();
            assert_eq!(answer.content.len(), 1, "case {i}");
            assert_eq!(answer.treatments.len(), rows, "case {i}");
            if rows == 1 {
                assert_eq!(answer.treatments[0].code, "K282");
                assert_eq!(answer.patient.name, "診療　太郎");
            }
            // Two calls: the medication, then the operations.
            assert_eq!(folder.center.calls, 2, "case {i}");
        }
    }

    fn unreachable() -> Result<EligibilityResult, CenterError> {
        Err(CenterError::Unreachable {
            reason: "refused".into(),
        })
    }

    fn request(institution: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XmlMsg><MessageHeader>\
             <QualificationConfirmationDate>20250602</QualificationConfirmationDate>\
             <MedicalInstitutionCode>{institution}</MedicalInstitutionCode>\
             <ArbitraryFileIdentifier>F1</ArbitraryFileIdentifier></MessageHeader>\
             <MessageBody><QualificationConfirmSearchInfo><InsurerNumber>  138057</InsurerNumber>\
             <InsuredCardSymbol>1234</InsuredCardSymbol>\
             <InsuredIdentificationNumber>567</InsuredIdentificationNumber>\
             <InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19800102</Birthdate>\
             <LimitApplicationCertificateRelatedConsFlg>0</LimitApplicationCertificateRelatedConsFlg>\
             </QualificationConfirmSearchInfo></MessageBody></XmlMsg>\n"
        )
    }

    fn setup(tag: &str) -> (tempfile::TempDir, Folder<Fake>, InstitutionCode) {
        let dir = tempfile::tempdir().unwrap();
        let _ = tag;
        let inst = InstitutionCode::parse("1310123458").unwrap();
        let mut config = FolderConfig::new(dir.path(), inst);
        config.retry_delay = Duration::from_millis(1);
        let folder = Folder::new(
            config,
            Fake {
                answer: unreachable,
                history: no_history,
                calls: 0,
            },
        )
        .unwrap();
        (dir, folder, inst)
    }

    #[test]
    fn unreachable_center_is_an_error_to_retry_and_nothing_is_answered_twice() {
        let (dir, mut folder, inst) = setup("u");
        let name = "OQSsiquc01req_0001.xml";
        fs::write(dir.path().join("req").join(name), request(inst.as_str())).unwrap();
        assert_eq!(
            folder.process(name),
            Outcome::Error(CENTER_UNREACHABLE.into())
        );
        let res = fs::read(dir.path().join("res/OQSsiquc01res_0001.xml")).unwrap();
        let r = onshi_oqs::parse_response(&res).unwrap();
        assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
        assert!(r.header.error.unwrap().1.contains("再度"));
        assert_eq!(r.header.file_id.as_deref(), Some("F1"));
        assert!(dir.path().join("req/error").join(name).exists());
        // The same request again while its response is there: moved, not answered.
        fs::write(dir.path().join("req").join(name), request(inst.as_str())).unwrap();
        assert_eq!(folder.process(name), Outcome::AlreadyAnswered);
        assert_eq!(folder.center.calls, 1);
        assert!(!dir.path().join("req").join(name).exists());
    }

    #[test]
    fn malformed_truncated_foreign_files_are_errors_and_other_kinds_reach_the_center() {
        let (dir, mut folder, inst) = setup("m");
        let req = dir.path().join("req");
        let full = request(inst.as_str());
        fs::write(req.join("OQSsiquc01req_a.xml"), &full[..full.len() / 2]).unwrap();
        fs::write(req.join("OQSsiquc01req_b.xml"), "<XmlMsg><oops></XmlMsg>").unwrap();
        fs::write(req.join("OQSsiquc01req_c.xml"), request("0110113719")).unwrap();
        fs::write(
            req.join("OQSsiimm01req_d.xml"),
            full.replace(
                "</QualificationConfirmSearchInfo>",
                "</QualificationConfirmSearchInfo><ReferenceNumber>P-1</ReferenceNumber>",
            ),
        )
        .unwrap();
        fs::write(req.join("notes.txt"), "x").unwrap();
        let out = folder.process_backlog().unwrap();
        let codes: Vec<_> = out.iter().map(|(_, o)| o.clone()).collect();
        assert_eq!(
            codes,
            vec![
                Outcome::Error(CENTER_UNREACHABLE.into()),
                Outcome::Error(ErrorCode::TRUNCATED.as_str().into()),
                Outcome::Error(ErrorCode::MALFORMED.as_str().into()),
                Outcome::Error(INSTITUTION_MISMATCH.into()),
                Outcome::NotARequest,
            ],
            "{out:?}"
        );
        assert_eq!(
            folder.center.calls, 1,
            "only the registration reached the center"
        );
        for n in ["a", "b", "c"] {
            let res = fs::read(dir.path().join(format!("res/OQSsiquc01res_{n}.xml"))).unwrap();
            assert_eq!(
                onshi_oqs::parse_response(&res).unwrap().header.segment,
                SegmentOfResult::Abnormal
            );
        }
        assert!(dir.path().join("res/OQSsiimm01res_d.xml").exists());
        assert!(req.join("error/notes.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("res"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left");
    }
}
