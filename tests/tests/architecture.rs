//! ARCHITECTURE.md names functions with the `file:line` where they are; this checks that each
//! reference still points at what it names, so the walk-through cannot rot.
//!
//! A reference is written `` `NAME` (`path/to/file.rs:LINE`) `` (whitespace, a line break
//! included, may separate the two). For an item path (`Inner::turn`, `sys::read`,
//! `trace_step!`) line LINE must define the last segment (`fn turn`, `struct ...`,
//! `macro_rules! trace_step`, ...); for a piece of code (`handler.get(cx).await`) it must contain
//! the code. On failure the message says where the name is now;
//! `python3 docs/update-architecture-lines.py` rewrites the numbers in place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Keywords that introduce an item definition.
const KEYWORDS: [&str; 9] = [
    "fn",
    "struct",
    "enum",
    "trait",
    "type",
    "const",
    "static",
    "mod",
    "macro_rules!",
];

struct Reference {
    name: String,
    path: String,
    line: usize,
    /// Where the reference is in ARCHITECTURE.md (1-based line).
    doc_line: usize,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether `c` can be part of an identifier (`None`: the start or end of the line).
fn ident_char(c: Option<char>) -> bool {
    matches!(c, Some(c) if c.is_ascii_alphanumeric() || c == '_')
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The item an item path names (`Inner::turn` -> `turn`), or `None` for a piece of code.
fn item_of(name: &str) -> Option<&str> {
    let path = name
        .strip_suffix("()")
        .or_else(|| name.strip_suffix('!'))
        .unwrap_or(name);
    path.split("::").all(is_ident).then(|| {
        path.rsplit("::")
            .next()
            .expect("split yields at least one piece")
    })
}

/// Whether `line` defines `item`: a keyword, whitespace, the name, then no identifier character.
fn defines(line: &str, item: &str) -> bool {
    KEYWORDS.iter().any(|keyword| {
        line.match_indices(keyword).any(|(at, _)| {
            let before_ok = !ident_char(line[..at].chars().next_back());
            let rest = &line[at + keyword.len()..];
            let trimmed = rest.trim_start();
            before_ok
                && trimmed.len() < rest.len()
                && trimmed
                    .strip_prefix(item)
                    .is_some_and(|after| !ident_char(after.chars().next()))
        })
    })
}

fn holds(name: &str, line: &str) -> bool {
    match item_of(name) {
        Some(item) => defines(line, item),
        None => line.contains(name),
    }
}

/// Every `` `NAME` (`path.rs:LINE`) `` in the document.
fn references(doc: &str) -> Vec<Reference> {
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(open) = doc[from..].find("(`").map(|i| from + i) {
        from = open + 2;
        let Some(close) = doc[from..].find("`)").map(|i| from + i) else {
            break;
        };
        let target = &doc[from..close];
        let Some((path, line)) = target.rsplit_once(':') else {
            continue;
        };
        let plain = |c: char| c.is_ascii_alphanumeric() || "/._-".contains(c);
        let (Ok(line), true) = (
            line.parse::<usize>(),
            path.ends_with(".rs") && path.chars().all(plain),
        ) else {
            continue;
        };
        // The backticked name just before the parenthesis (whitespace between).
        let before = doc[..open].trim_end();
        let Some(before) = before.strip_suffix('`') else {
            continue;
        };
        let Some(start) = before.rfind('`') else {
            continue;
        };
        let name = &before[start + 1..];
        if name.is_empty() || name.contains('\n') {
            continue;
        }
        refs.push(Reference {
            name: name.to_string(),
            path: path.to_string(),
            line,
            doc_line: doc[..open].matches('\n').count() + 1,
        });
    }
    refs
}

#[test]
fn every_file_line_reference_points_at_what_it_names() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let refs = references(&doc);
    assert!(
        refs.len() >= 40,
        "only {} `NAME` (`file.rs:LINE`) references found in ARCHITECTURE.md; has the format changed?",
        refs.len()
    );

    let mut files: HashMap<String, Vec<String>> = HashMap::new();
    let mut stale = Vec::new();
    for r in &refs {
        let lines = files.entry(r.path.clone()).or_insert_with(|| {
            std::fs::read_to_string(root.join(&r.path))
                .unwrap_or_else(|e| panic!("ARCHITECTURE.md:{}: {}: {e}", r.doc_line, r.path))
                .lines()
                .map(str::to_string)
                .collect()
        });
        let ok = r
            .line
            .checked_sub(1)
            .and_then(|i| lines.get(i))
            .is_some_and(|l| holds(&r.name, l));
        if !ok {
            let now: Vec<String> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| holds(&r.name, l))
                .map(|(i, _)| (i + 1).to_string())
                .collect();
            let now = if now.is_empty() {
                "not found in the file".to_string()
            } else {
                format!("now at line {}", now.join(" or "))
            };
            stale.push(format!(
                "ARCHITECTURE.md:{}: `{}` (`{}:{}`): {now}",
                r.doc_line, r.name, r.path, r.line
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale references (run `python3 docs/update-architecture-lines.py`):\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_reference_rules() {
    assert!(defines(
        "    pub(crate) fn turn(&self, block: bool) {",
        "turn"
    ));
    assert!(defines(
        "    async fn get(&mut self, cx: &mut Context<'_>) -> Result {",
        "get"
    ));
    assert!(defines("macro_rules! trace_step {", "trace_step"));
    assert!(!defines("    fn get_argument(&self) {", "get"));
    assert!(!defines("    self.turn(true);", "turn"));
    assert!(!defines("fn unfold() {}", "fold"));
    assert_eq!(item_of("Inner::turn"), Some("turn"));
    assert_eq!(item_of("trace_step!"), Some("trace_step"));
    assert_eq!(item_of("handler.get(cx).await"), None);
    let doc = "1. `Inner::turn`\n   (`reactor/src/reactor.rs:483`) and `a.b()` (`x.rs:7`), not `c` (`d.md:1`).";
    let refs = references(doc);
    assert_eq!(refs.len(), 2);
    assert_eq!(
        (
            refs[0].name.as_str(),
            refs[0].path.as_str(),
            refs[0].line,
            refs[0].doc_line
        ),
        ("Inner::turn", "reactor/src/reactor.rs", 483, 2)
    );
    assert_eq!((refs[1].name.as_str(), refs[1].line), ("a.b()", 7));
}
