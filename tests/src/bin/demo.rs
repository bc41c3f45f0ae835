//! `web/examples/demo.rs`, built as a binary of this package so that the end-to-end tests can
//! run the real demo (`CARGO_BIN_EXE_demo`) as a child process: its routes, its flags, its
//! SIGINT/SIGTERM graceful shutdown.

#[path = "../../../web/examples/demo.rs"]
mod demo;

fn main() {
    demo::main()
}
