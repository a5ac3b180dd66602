//! `onshi bench card` end to end on a tiny scale: a seeded SQLite center served over
//! mutual TLS, terminals enrolled and cards issued by the bench, a short open-loop run.
//! Checks the report's shape and that every check succeeded; no timing assertions.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn bench_card_runs_end_to_end_on_sqlite() {
    let dir = tempdir("bench");
    let url = onshi_store::testing::fresh_sqlite_url(&dir);
    let data = dir.join("data");
    run(&[
        "seed",
        "--database-url",
        &url,
        "--persons",
        "2000",
        "--quiet",
    ]);
    let server = serve_tls(&url, &data);
    let out = dir.join("out.json");
    // No --server-pid: the bench finds the server by its listening port.
    let printed = run(&[
        "bench",
        "card",
        "--center",
        &server.base,
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        &url,
        "--cards",
        "5",
        "--terminals",
        "2",
        "--rate",
        "50",
        "--duration",
        "3s",
        "--warmup",
        "1s",
        "--verify-iterations",
        "200",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert!(
        printed.contains("server CPU per check / one RSA verify"),
        "{printed}"
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();

    assert!(r["machine"]["cores"].as_u64().unwrap() >= 1, "{r:#}");
    assert_eq!(r["mode"], "open");
    assert_eq!(r["offered_per_s"].as_f64(), Some(50.0));
    assert_eq!(r["terminals"], 2);
    assert_eq!(r["cards"], 5);
    let checks = &r["checks"];
    assert!(checks["ok_in_window"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(checks["errors"], 0, "{r:#}");
    assert!(r["errors"].as_object().unwrap().is_empty(), "{r:#}");
    assert!(checks["achieved_per_s"].as_f64().unwrap() > 0.0, "{r:#}");
    let lat = &r["latency_ms"];
    assert!(lat["count"].as_u64().unwrap() > 0, "{r:#}");
    for k in ["p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(lat[k].as_f64().unwrap() > 0.0, "latency {k}: {r:#}");
    }
    assert!(lat["p50"].as_f64() <= lat["p99"].as_f64());
    assert!(lat["p99"].as_f64() <= lat["max"].as_f64());
    assert!(r["presign"]["ran_dry"].is_u64(), "{r:#}");
    assert_eq!(r["presign"]["sign_failures"], 0, "{r:#}");
    assert_eq!(
        r["server"]["pids"],
        serde_json::json!([server.child.id()]),
        "the server found by its port: {r:#}"
    );
    assert!(r["server"]["cpu_s"].is_number(), "{r:#}");
    assert!(r["server"]["cpu_per_check_us"].is_number(), "{r:#}");
    assert!(r["generator"]["cpu_s"].is_number(), "{r:#}");
    assert!(r["rsa2048"]["verify_us"].as_f64().unwrap() > 0.0, "{r:#}");
    assert!(r["rsa2048"]["sign_us"].as_f64().unwrap() > 0.0, "{r:#}");
    assert!(
        r["ratio_server_cpu_per_check_to_rsa_verify"].is_number(),
        "{r:#}"
    );
    assert_eq!(r["target_ratio"].as_f64(), Some(4.0));
    // Every challenge of the window came with the previous answer: no challenge requests.
    assert_eq!(r["server"]["challenges"], "carried by the answers", "{r:#}");
    assert_eq!(r["server"]["challenges_in_window"], 0, "{r:#}");
    assert_eq!(r["presign"]["signed_before_start"], Value::Null, "{r:#}");

    // Closed loop with every request signed before the start: the run uses them up (or
    // ends with its window) and nothing fails. The center named twice (its terminals
    // spread over both names) is counted once; the processes named `onshi` (the center
    // and the bench itself) are added up beside it.
    let out = dir.join("presigned.json");
    run(&[
        "bench",
        "card",
        "--center",
        &server.base,
        "--center",
        &server.base,
        "--count-processes",
        "onshi",
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        &url,
        "--cards",
        "5",
        "--terminals",
        "2",
        "--max",
        "--concurrency",
        "4",
        "--presign",
        "3000",
        "--duration",
        "1s",
        "--warmup",
        "200ms",
        "--verify-iterations",
        "200",
        "--json",
        out.to_str().unwrap(),
    ]);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["mode"], "closed");
    assert_eq!(r["presign"]["signed_before_start"], 3000, "{r:#}");
    assert_eq!(
        r["server"]["challenges"], "fetched before the start",
        "{r:#}"
    );
    assert_eq!(r["server"]["challenges_in_window"], 0, "{r:#}");
    let ok = r["checks"]["ok_in_window"].as_u64().unwrap();
    assert!(ok > 0 && ok <= 3000, "{r:#}");
    assert_eq!(r["checks"]["errors"], 0, "{r:#}");
    assert_eq!(
        r["server"]["pids"],
        serde_json::json!([server.child.id()]),
        "{r:#}"
    );
    let counted = &r["counted_processes"];
    assert_eq!(counted["names"], serde_json::json!(["onshi"]), "{r:#}");
    assert!(counted["cpu_s"].as_f64().unwrap() > 0.0, "{r:#}");
    assert!(
        counted["ratio_with_server"].as_f64().unwrap()
            > r["ratio_server_cpu_per_check_to_rsa_verify"]
                .as_f64()
                .unwrap(),
        "{r:#}"
    );
}
