//! The EMR operations of the center fuzzed against its OpenAPI document by schemathesis
//! (PyPI, in the virtual environment of scripts/setup-python.sh, next to `ONSHI_PYTHON`):
//! `onshi serve --tls` on a seeded database, schemathesis connecting as an enrolled
//! terminal (its certificate and key), every generated request checked for server errors,
//! undocumented status codes, content types and response bodies against the schemas.

mod common;

use std::path::PathBuf;
use std::process::Command;

use chrono::NaiveDate;
use common::*;

/// The checker's `schemathesis`, or `None` (skip) when `ONSHI_PYTHON` is unset and
/// `ONSHI_REQUIRE_PYTHON=1` is not.
fn schemathesis() -> Option<PathBuf> {
    let required = std::env::var("ONSHI_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = std::env::var_os("ONSHI_PYTHON") else {
        assert!(
            !required,
            "ONSHI_REQUIRE_PYTHON=1 but ONSHI_PYTHON is not set (source scripts/setup-python.sh)"
        );
        eprintln!(
            "NOTE: ONSHI_PYTHON not set; the API fuzzing is skipped (source scripts/setup-python.sh)"
        );
        return None;
    };
    let exe = PathBuf::from(py).with_file_name("schemathesis");
    assert!(exe.is_file(), "{} is missing", exe.display());
    Some(exe)
}

/// The EMR's operations (and the single check they build on).
const OPERATIONS: &str = r"^/v1/(eligibility/insurance-data|eligibility/bulk|eligibility/home-consents|reference-numbers|receptions/\{reception\}/fhir|history/\{kind\})";

#[test]
fn emr_operations_conform_to_the_openapi_document() {
    let Some(st) = schemathesis() else { return };
    let data = tempdir("schemathesis");
    let url = onshi_store::testing::fresh_sqlite_url(&data);
    seed(
        &url,
        300,
        5,
        NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
        false,
    );
    let n = onshi_synth::Nation::new(onshi_synth::Config {
        seed: 5,
        persons: 300,
        as_of: NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
    });
    let institution = n.institutions()[0].code.to_string();
    let terminal = enroll(&url, &data, &institution, "T01");
    let server = serve_tls(&url, &data);
    let pem = |name: &str| terminal.join(name).to_str().unwrap().to_owned();
    let out = Command::new(&st)
        .current_dir(&data)
        .args([
            "run",
            &format!("{}/openapi.json", server.base),
            "--include-path-regex",
            OPERATIONS,
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "40",
            "--seed",
            "20250602",
            "--workers",
            "2",
            "--generation-database",
            "none",
            "--request-timeout",
            "20",
            "--request-cert",
            &pem("terminal.crt.pem"),
            "--request-cert-key",
            &pem("terminal.key.pem"),
            "--tls-verify",
            &pem("ca.pem"),
            "--no-color",
        ])
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
    // It ran the operations, not nothing.
    for op in [
        "POST /v1/eligibility/insurance-data",
        "POST /v1/eligibility/bulk",
        "GET /v1/eligibility/bulk/{reception_number}",
        "POST /v1/reference-numbers",
        "GET /v1/receptions/{reception}/fhir",
        "POST /v1/history/{kind}",
        "POST /v1/eligibility/home-consents",
    ] {
        assert!(stdout.contains(op), "{op} not tested:\n{stdout}");
    }
}
