//! The issuance worker: claims due jobs from the durable queue (see `onshi_store`'s
//! phone module for the exactly-once rules), has J-LIS's smartphone CAs certify the
//! phone's keys (and on iPhone issues the mdoc), completes the job in one transaction and
//! pushes the news to the phone. It also applies the lifecycle rule that a phone ends with
//! its card, by following the card certificates' changes.

use std::time::Duration;

use chrono::Utc;
use onshi_pki::{BasicAttributes, CaKind};
use onshi_store::{IssuedPhone, JobCompletion, PhoneCert, PhoneJob};

use super::sha256_hex;
use crate::AppState;
use crate::time::{now_jst, to_jst};

/// The lock file in the J-LIS state directory under which centers issue.
pub const ISSUE_LOCK_FILE: &str = "issue.lock";
/// How long a claim holds before another worker may take the job over.
const LEASE_SECS: i64 = 60;
/// Attempts before a job is given up.
const MAX_ATTEMPTS: i64 = 3;
/// The longest sleep between looks at the queue (other processes add jobs too).
const IDLE: Duration = Duration::from_millis(500);

/// Starts this process's worker. Any number of center processes may run one on the same
/// database. Needs the center's PKI (J-LIS CAs).
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let name = format!("center-{}", std::process::id());
        let mut cascade_cursor = 0i64;
        let mut last_cascade = std::time::Instant::now() - Duration::from_secs(10);
        loop {
            if last_cascade.elapsed() >= Duration::from_secs(1) {
                last_cascade = std::time::Instant::now();
                match state
                    .store()
                    .cascade_phone_revocations(cascade_cursor, now_jst())
                    .await
                {
                    Ok((ended, cursor)) => {
                        cascade_cursor = cursor;
                        if !ended.is_empty() {
                            tracing::info!(?ended, "phone credentials ended with their card");
                            state.phone().credential_changed();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "phone lifecycle pass failed"),
                }
            }
            let job = match state
                .store()
                .claim_phone_job(&name, now_jst(), chrono::Duration::seconds(LEASE_SECS))
                .await
            {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a phone job failed");
                    None
                }
            };
            match job {
                Some(job) => run(&state, job).await,
                None => {
                    let _ = tokio::time::timeout(IDLE, state.phone().wake.notified()).await;
                }
            }
        }
    })
}

async fn run(state: &AppState, job: PhoneJob) {
    let result = issue(state, &job).await;
    let store = state.store();
    match result {
        Ok(issued) => match store.complete_phone_job(&job, &issued).await {
            Ok(JobCompletion::Issued { superseded }) => {
                tracing::info!(
                    credential = job.credential_id,
                    ?superseded,
                    "phone credential issued"
                );
                state.phone().credential_changed();
            }
            Ok(JobCompletion::Abandoned) => {
                tracing::info!(
                    credential = job.credential_id,
                    "phone credential ended before issuance"
                );
                state.phone().credential_changed();
            }
            Ok(JobCompletion::LostClaim) => {
                tracing::warn!(job = job.id, "phone job taken over by another worker");
            }
            Err(e) => tracing::warn!(job = job.id, error = %e, "completing a phone job failed"),
        },
        Err(why) => {
            let give_up = job.attempts >= MAX_ATTEMPTS;
            let now = now_jst();
            let retry = now + chrono::Duration::seconds(5 * job.attempts);
            if let Err(e) = store.fail_phone_job(&job, &why, now, give_up, retry).await {
                tracing::warn!(job = job.id, error = %e, "recording a phone job failure failed");
            }
            tracing::warn!(job = job.id, %why, give_up, "phone issuance failed");
            if give_up {
                state.phone().credential_changed();
            }
        }
    }
}

fn sex(s: onshi_model::Sex) -> onshi_pki::Sex {
    match s {
        onshi_model::Sex::Male => onshi_pki::Sex::Male,
        onshi_model::Sex::Female => onshi_pki::Sex::Female,
        _ => onshi_pki::Sex::NotApplicable,
    }
}

/// Certifies the phone's keys (and issues the iPhone's mdoc). Nothing is written to the
/// database here: a crash after this leaves only unused serial numbers.
async fn issue(state: &AppState, job: &PhoneJob) -> Result<IssuedPhone, String> {
    let store = state.store();
    let cred = store
        .phone_credential(job.credential_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("credential missing")?;
    let person = store
        .person(cred.person_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("person missing")?;
    let card = state.card().ok_or("the center runs without its PKI")?;
    let attributes = BasicAttributes {
        name: person.name.full(),
        name_substitute: None,
        sex: sex(person.sex),
        birth_date: person.birth_date,
        address: person.address.clone(),
        address_substitute: None,
    };
    let now = Utc::now();
    let (auth, signing) = {
        let mut jlis = card.jlis.lock().map_err(|_| "J-LIS state poisoned")?;
        // Several center processes issue from one J-LIS state directory, and the
        // registry's card issuance advances its counters too: issue under an exclusive
        // lock on the directory and read the counters again first, so that serial numbers
        // stay unique across processes.
        let lock_path = jlis.dir().join(ISSUE_LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
        lock.lock()
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
        let base = jlis
            .ca(CaKind::PhoneAuth)
            .crl_url()
            .and_then(|u| u.strip_suffix(&format!("/{}.crl", CaKind::PhoneAuth.label())))
            .map(str::to_owned);
        *jlis = onshi_pki::Jlis::load_or_create(jlis.dir(), now, base.as_deref())
            .map_err(|e| format!("J-LIS state: {e}"))?;
        let auth = jlis
            .issue_auth(CaKind::PhoneAuth, &cred.auth_spki, person.birth_date, now)
            .map_err(|e| format!("phone auth certificate: {e}"))?;
        let signing = jlis
            .issue_signing(CaKind::PhoneSigning, &cred.signing_spki, &attributes, now)
            .map_err(|e| format!("phone signing certificate: {e}"))?;
        drop(lock);
        (auth, signing)
    };
    let mdoc = match cred.platform.as_str() {
        "iphone" => Some(super::mdoc::issue(state, &cred, &person, now)?),
        _ => None,
    };
    let cert = |c: onshi_pki::IssuedCert, kind: CaKind| PhoneCert {
        fingerprint: sha256_hex(&c.der),
        issuer: kind.label().to_owned(),
        serial: c.serial.to_hex(),
        not_before: now.naive_utc(),
        not_after: c.not_after.naive_utc(),
        der: c.der,
    };
    Ok(IssuedPhone {
        auth: cert(auth, CaKind::PhoneAuth),
        signing: cert(signing, CaKind::PhoneSigning),
        mdoc,
        issued_at: to_jst(now),
    })
}
