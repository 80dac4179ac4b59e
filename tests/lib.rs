//! Integration tests of pretext live in `tests.rs`; this crate has no library code.
