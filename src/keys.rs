//! Key bindings.
