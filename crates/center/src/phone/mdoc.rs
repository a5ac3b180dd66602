//! The iPhone's card substitute record: an ISO/IEC 18013-5 mdoc issued by the center with
//! the holder's attributes and My Number as registered, the face photo the portal app
//! read from the card face, bound to the device key the phone generated, signed by
//! J-LIS's document signer and valid until the card certificate's expiry (as the phone
//! credential itself).

use chrono::{DateTime, Utc};
use onshi_store::{PersonRow, PhoneCredentialRow};

use crate::AppState;

/// Japan's offset, to turn the stored Japan wall-clock instants back into UTC.
const JST_SECONDS: i64 = 9 * 3600;

/// Issues the mdoc (IssuerSigned, CBOR) for an iPhone credential.
pub(super) fn issue(
    state: &AppState,
    cred: &PhoneCredentialRow,
    person: &PersonRow,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let device_key = cred
        .device_key
        .as_ref()
        .ok_or("an iPhone credential without a device key")?;
    let portrait = cred
        .portrait
        .clone()
        .ok_or("an iPhone credential without the face photo")?;
    let card = state.card().ok_or("the center runs without its PKI")?;
    let signer = {
        let jlis = card.jlis.lock().map_err(|_| "J-LIS state poisoned")?;
        jlis.document_signer(now)
            .map_err(|e| format!("document signer: {e}"))?
    };
    let signer =
        onshi_mdoc::DocumentSigner::new(signer.pkcs8_der(), signer.certificate_der().to_vec())
            .map_err(|e| format!("document signer: {e}"))?;
    let record = onshi_mdoc::CardRecord {
        name: person.name.full(),
        address: person.address.clone(),
        birth_date: person.birth_date,
        sex: person.sex.iso5218(),
        my_number: person.my_number.as_str().to_owned(),
        portrait,
    };
    let valid_until = cred.card_not_after.and_utc() - chrono::Duration::seconds(JST_SECONDS);
    let issued = onshi_mdoc::issue(
        &record,
        device_key,
        &signer,
        onshi_mdoc::Validity {
            signed: now,
            valid_from: now,
            valid_until,
        },
    )
    .map_err(|e| format!("mdoc: {e}"))?;
    Ok(issued.to_bytes())
}
