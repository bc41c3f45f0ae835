//! `http1/examples/fetch.rs`, built as a binary of this package so that the end-to-end tests can
//! run the real example (`CARGO_BIN_EXE_fetch`): its `--ca-file` flag and its error messages.

#[path = "../../../http1/examples/fetch.rs"]
mod fetch;

fn main() {
    fetch::main()
}
