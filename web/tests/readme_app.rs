//! The README's first application is `web/examples/hello_app.rs` (built with the workspace),
//! word for word, so the README's code always compiles.

#[test]
fn readme_first_app_is_the_hello_app_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/web/examples/hello_app.rs")).unwrap();
    let code: String = example
        .lines()
        .filter(|l| !l.starts_with("//!"))
        .map(|l| format!("{l}\n"))
        .collect();
    let section = readme
        .split("## Use it from your own Cargo project")
        .nth(1)
        .expect("the README section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a rust block in the section");
    assert_eq!(block, code);
}
