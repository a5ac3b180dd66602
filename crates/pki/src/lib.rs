//! onshi-pki (placeholder).
