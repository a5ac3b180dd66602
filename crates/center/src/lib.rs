//! onshi-center (placeholder).
