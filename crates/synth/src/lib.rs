//! onshi-synth (placeholder).
