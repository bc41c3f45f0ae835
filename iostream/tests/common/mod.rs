//! Helpers shared by the TLS test binaries.
pub mod certs;
