//! onshi-store (placeholder).
