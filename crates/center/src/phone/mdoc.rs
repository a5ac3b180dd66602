//! The iPhone's card substitute record: an ISO/IEC 18013-5 mdoc issued by the center
//! with the holder's attributes, bound to the device key the phone generated.

use chrono::{DateTime, Utc};
use onshi_store::{PersonRow, PhoneCredentialRow};

use crate::AppState;

/// Issues the mdoc for an iPhone credential.
pub(super) fn issue(
    _state: &AppState,
    cred: &PhoneCredentialRow,
    _person: &PersonRow,
    _now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let _ = cred
        .device_key
        .as_ref()
        .ok_or("an iPhone credential without a device key")?;
    Err("mdoc issuance is not available in this build".into())
}
