//! The OQS XML messages of the clinic's file interface (オンライン資格確認 の連携ファイル):
//! parsing the request files an EMR writes (`OQSsiquc01` single eligibility check,
//! `OQSmuquc01`/`OQSmuquc02` bulk check and its fetch, `OQSsiimm01` 照会番号 registration,
//! `YZKsiquc01`/`TKKsiquc01` medication and check-up information, also as PDF, and the
//! `OQSmuhvq`/`OQSmuonq` 訪問診療・オンライン診療 bulk searches)
//! into the model's validated types, and building the response files the terminal writes
//! to `res/` and the reader results it writes to `face/`, in UTF-8 or Shift_JIS
//! (Windows-31J) as the request used, with the file names of both folders. It turns bytes
//! into values and values into bytes and nothing else: it must not touch the file system,
//! open a connection, call the center over HTTP or read a clock — the folder watcher and
//! the terminal pass files and times in. Every fault in a request is an [`OqsError`] that
//! carries an OQS-style [`ErrorCode`] and a Japanese message for the error response;
//! nothing a request contains makes this crate panic.

pub mod charset;
mod error;
mod files;
mod history;
pub mod names;
pub mod pdf;
mod request;
mod response;
mod xml;

pub use charset::{Charset, SUBSTITUTES};
pub use error::{ErrorCode, OqsError};
pub use files::{MessageKind, face_file_name, response_file_name, unsupported_request};
pub use history::{
    CardKey, CheckupEntry, CheckupItem, CheckupValue, FileCategory, HistoryAnswer, HistoryContent,
    HistoryPatient, HistoryRequest, MedicationEntry, MonthRange, ParsedHistoryResponse,
    RESULT_CODE_ERROR, RESULT_CODE_NORMAL, TreatmentEntry, UrineLevel, history_response,
    parse_history_response,
};
pub use request::{
    BulkFetchRequest, BulkSubmitRequest, HomeCare, HomeCareSearch, MAX_BULK, MAX_FILE_IDENTIFIER,
    MAX_REFERENCE_NUMBER, ParsedRequest, ReferenceRegistration, Request, RequestHeader,
    SearchDates, SingleRequest, parse_request, salvage_header,
};
pub use response::{
    BulkLayout, BulkResult, ParsedResponse, ResponseBody, ResponseHeader, bulk_accepted_response,
    bulk_result_response, eligibility_response, error_response, face_result, parse_response,
    registration_response, write_response,
};

/// The largest request file read (a bulk request of a few thousand patients fits).
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

#[cfg(test)]
mod tests;
