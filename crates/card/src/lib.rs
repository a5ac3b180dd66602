//! onshi-card (placeholder).
