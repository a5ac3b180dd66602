//! CA keys inside a PKCS#11 token (feature `pkcs11`), tested against SoftHSM 2.
//!
//! Keys are generated in the token as RSA-2048 pairs, private halves sensitive and not
//! extractable, both halves labelled with the key-store label. Signing uses
//! `CKM_SHA256_RSA_PKCS`. One session per store, serialised by a mutex: PKCS#11
//! sessions are not thread-safe, and CA signing is not a hot path.

use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::PublicKeyComponents;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::PkiError;
use crate::key::{KeyStore, Signer};

fn p11(e: cryptoki::error::Error) -> PkiError {
    PkiError::Pkcs11(e.to_string())
}

/// A PKCS#11 token used as a [`KeyStore`]. The token is found by its label (slot
/// numbers change after `C_InitToken` in SoftHSM).
pub struct Pkcs11KeyStore {
    session: Arc<Mutex<Session>>,
    slot: Slot,
    _ctx: Pkcs11,
}

impl std::fmt::Debug for Pkcs11KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11KeyStore")
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

fn load(module: &Path) -> Result<Pkcs11, PkiError> {
    let ctx = Pkcs11::new(module)
        .map_err(|e| PkiError::Pkcs11(format!("loading {}: {e}", module.display())))?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(p11)?;
    Ok(ctx)
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Option<Slot>, PkiError> {
    for slot in ctx.get_slots_with_token().map_err(p11)? {
        let info = ctx.get_token_info(slot).map_err(p11)?;
        if info.token_initialized() && info.label().trim_end() == label {
            return Ok(Some(slot));
        }
    }
    Ok(None)
}

impl Pkcs11KeyStore {
    /// Opens the token labelled `token_label` in the PKCS#11 module at `module` and
    /// logs in as the user.
    pub fn open(
        module: impl AsRef<Path>,
        token_label: &str,
        user_pin: &str,
    ) -> Result<Self, PkiError> {
        let ctx = load(module.as_ref())?;
        let slot = find_slot(&ctx, token_label)?
            .ok_or_else(|| PkiError::Pkcs11(format!("no token labelled {token_label:?}")))?;
        Self::login(ctx, slot, user_pin)
    }

    /// Initialises a new token labelled `token_label` in the first free slot, sets its
    /// user PIN, and opens it. Fails if a token with that label already exists.
    pub fn init_token(
        module: impl AsRef<Path>,
        token_label: &str,
        so_pin: &str,
        user_pin: &str,
    ) -> Result<Self, PkiError> {
        let ctx = load(module.as_ref())?;
        if find_slot(&ctx, token_label)?.is_some() {
            return Err(PkiError::Pkcs11(format!(
                "a token labelled {token_label:?} exists"
            )));
        }
        let mut free = None;
        for slot in ctx.get_slots_with_token().map_err(p11)? {
            if !ctx.get_token_info(slot).map_err(p11)?.token_initialized() {
                free = Some(slot);
                break;
            }
        }
        let free = free.ok_or_else(|| PkiError::Pkcs11("no free slot".into()))?;
        let so_pin = AuthPin::from(so_pin);
        ctx.init_token(free, &so_pin, token_label).map_err(p11)?;
        // The slot id changes after initialisation: look the token up again by label.
        let slot = find_slot(&ctx, token_label)?.ok_or_else(|| {
            PkiError::Pkcs11(format!("token {token_label:?} vanished after init"))
        })?;
        {
            let session = ctx.open_rw_session(slot).map_err(p11)?;
            session.login(UserType::So, Some(&so_pin)).map_err(p11)?;
            session.init_pin(&AuthPin::from(user_pin)).map_err(p11)?;
            session.logout().map_err(p11)?;
        }
        Self::login(ctx, slot, user_pin)
    }

    fn login(ctx: Pkcs11, slot: Slot, user_pin: &str) -> Result<Self, PkiError> {
        let session = ctx.open_rw_session(slot).map_err(p11)?;
        session
            .login(UserType::User, Some(&AuthPin::from(user_pin)))
            .map_err(p11)?;
        Ok(Self {
            session: Arc::new(Mutex::new(session)),
            slot,
            _ctx: ctx,
        })
    }
}

fn lock(s: &Mutex<Session>) -> Result<std::sync::MutexGuard<'_, Session>, PkiError> {
    s.lock()
        .map_err(|_| PkiError::Pkcs11("session lock poisoned".into()))
}

fn find_one(
    session: &Session,
    class: ObjectClass,
    label: &str,
) -> Result<Option<ObjectHandle>, PkiError> {
    let found = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(p11)?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found[0])),
        n => Err(PkiError::Pkcs11(format!("{n} objects labelled {label:?}"))),
    }
}

fn spki_of(session: &Session, public: ObjectHandle) -> Result<Vec<u8>, PkiError> {
    let attrs = session
        .get_attributes(
            public,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .map_err(p11)?;
    let (mut n, mut e) = (None, None);
    for a in attrs {
        match a {
            Attribute::Modulus(v) => n = Some(v),
            Attribute::PublicExponent(v) => e = Some(v),
            _ => {}
        }
    }
    let strip = |v: Vec<u8>| -> Vec<u8> {
        let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        v[start..].to_vec()
    };
    let (Some(n), Some(e)) = (n, e) else {
        return Err(PkiError::Pkcs11(
            "public key without modulus or exponent".into(),
        ));
    };
    let components = PublicKeyComponents {
        n: strip(n),
        e: strip(e),
    };
    let der: PublicKeyX509Der<'_> = components
        .as_der()
        .map_err(|_| PkiError::Pkcs11("cannot encode the token's public key".into()))?;
    Ok(der.as_ref().to_vec())
}

impl KeyStore for Pkcs11KeyStore {
    fn load_or_generate(&self, label: &str) -> Result<Arc<dyn Signer>, PkiError> {
        let session = lock(&self.session)?;
        let private = find_one(&session, ObjectClass::PRIVATE_KEY, label)?;
        let public = find_one(&session, ObjectClass::PUBLIC_KEY, label)?;
        let (public, private) = match (public, private) {
            (Some(p), Some(k)) => (p, k),
            (None, None) => {
                let id = label.as_bytes().to_vec();
                let public_template = [
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::KeyType(KeyType::RSA),
                    Attribute::ModulusBits(2048.into()),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                    Attribute::Verify(true),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Id(id.clone()),
                ];
                let private_template = [
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Sign(true),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Id(id),
                ];
                session
                    .generate_key_pair(
                        &Mechanism::RsaPkcsKeyPairGen,
                        &public_template,
                        &private_template,
                    )
                    .map_err(p11)?
            }
            _ => {
                return Err(PkiError::Pkcs11(format!(
                    "only half of the key pair {label:?} is in the token"
                )));
            }
        };
        let spki = spki_of(&session, public)?;
        drop(session);
        Ok(Arc::new(Pkcs11Signer {
            session: self.session.clone(),
            key: private,
            spki,
        }))
    }
}

/// A private key inside the token.
struct Pkcs11Signer {
    session: Arc<Mutex<Session>>,
    key: ObjectHandle,
    spki: Vec<u8>,
}

impl Signer for Pkcs11Signer {
    fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        lock(&self.session)?
            .sign(&Mechanism::Sha256RsaPkcs, self.key, message)
            .map_err(p11)
    }
}
