//! ARCHITECTURE.md names the functions it walks through and the file that defines each; this
//! checks that every such file still defines what the document says, so the walk-through cannot
//! rot.
//!
//! A reference is written `` `NAME` (`path/to/file.rs`) `` (whitespace, a line break included,
//! may separate the two). NAME is one of:
//! - a qualified item, `Inner::turn`: a `fn turn` (or another item keyword) directly inside an
//!   `impl` or `trait` block that names `Inner`, as its type (`impl Inner`, `impl Wake for
//!   Inner<T>`) or as its trait (`impl Inner for Handler`), or inside `mod Inner { }`. When the
//!   qualifier is the module the file itself is (`sys::read` in `iostream/src/sys.rs`), the item
//!   is defined at the top of the file;
//! - a single item, `accept_loop` or `trace_step!`: defined anywhere in the file (`fn`,
//!   `struct`, `enum`, `union`, `trait`, `type`, `const`, `static`, `mod`, `macro_rules!`);
//! - anything else is a piece of code (`libc::epoll_wait(`), which must appear in the file.
//!
//! Comments and string literals are not code: `// fn turn` defines nothing. On failure the
//! message lists every reference that no longer holds, with its line in ARCHITECTURE.md, why,
//! and the files of the workspace that define the name now.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Keywords that introduce an item definition (`macro_rules` is followed by `!`).
const KEYWORDS: [&str; 11] = [
    "fn",
    "struct",
    "enum",
    "union",
    "trait",
    "type",
    "const",
    "static",
    "mod",
    "macro_rules",
    "impl",
];

/// The crates whose sources a reference may name (and where a missing name is looked for).
const CRATES: [&str; 4] = ["reactor", "iostream", "http1", "web"];

/// One `` `NAME` (`path.rs`) `` of the document.
#[derive(Debug, PartialEq)]
struct Reference {
    name: String,
    path: String,
    /// Where the reference is in the document (1-based line).
    doc_line: usize,
}

/// `doc` with its fenced code blocks and its ``` `` ... `` ``` spans (examples of the syntax,
/// not references) replaced by spaces, line breaks kept.
fn prose(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut fenced = false;
    for line in doc.split_inclusive('\n') {
        let fence = line.trim_start().starts_with("```");
        if fenced || fence {
            out.extend(line.chars().map(|c| if c == '\n' { c } else { ' ' }));
            fenced ^= fence;
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("``") {
            let Some(len) = rest[start + 2..].find("``") else {
                break;
            };
            out.push_str(&rest[..start]);
            out.extend(std::iter::repeat_n(' ', len + 4));
            rest = &rest[start + len + 4..];
        }
        out.push_str(rest);
    }
    out
}

/// Every `` `NAME` (`path.rs`) `` in `doc`'s prose, and the references still written the old
/// way, `` `NAME` (`path.rs:LINE`) ``, as errors.
fn references(doc: &str) -> (Vec<Reference>, Vec<String>) {
    let doc = &prose(doc);
    let mut refs = Vec::new();
    let mut errors = Vec::new();
    let mut from = 0;
    while let Some(open) = doc[from..].find("(`").map(|i| from + i) {
        from = open + 2;
        let Some(close) = doc[from..].find("`)").map(|i| from + i) else {
            break;
        };
        let target = &doc[from..close];
        let doc_line = doc[..open].matches('\n').count() + 1;
        let plain = |c: char| c.is_ascii_alphanumeric() || "/._-".contains(c);
        let (path, old_line) = match target.rsplit_once(':') {
            Some((path, line)) if line.parse::<usize>().is_ok() => (path, true),
            _ => (target, false),
        };
        if !(path.ends_with(".rs") && path.chars().all(plain)) {
            continue;
        }
        // The backticked name just before the parenthesis (whitespace between).
        let Some(before) = doc[..open].trim_end().strip_suffix('`') else {
            continue;
        };
        let Some(start) = before.rfind('`') else {
            continue;
        };
        let name = &before[start + 1..];
        if name.is_empty() || name.contains('\n') {
            continue;
        }
        if old_line {
            errors.push(format!(
                "ARCHITECTURE.md:{doc_line}: `{name}` (`{target}`): write the file without a line \
                 number, `{name}` (`{path}`)"
            ));
            continue;
        }
        refs.push(Reference {
            name: name.to_string(),
            path: path.to_string(),
            doc_line,
        });
    }
    (refs, errors)
}

/// What a reference's NAME asks for.
#[derive(Debug, PartialEq)]
enum Name<'a> {
    /// `Inner::turn` (`qualifier` `Inner`), `accept_loop` (no qualifier), `trace_step!`
    /// (`macro_` set).
    Item {
        qualifier: Option<&'a str>,
        item: &'a str,
        macro_: bool,
    },
    /// A piece of code that must appear in the file as written.
    Code(&'a str),
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_name(name: &str) -> Name<'_> {
    let (path, macro_) = match name.strip_suffix('!') {
        Some(path) => (path, true),
        None => (name.strip_suffix("()").unwrap_or(name), false),
    };
    if !path.split("::").all(is_ident) {
        return Name::Code(name);
    }
    let (qualifier, item) = match path.rsplit_once("::") {
        // `a::B::c`: the block that must hold `c` is the one naming `B`.
        Some((qualifier, item)) => (qualifier.rsplit("::").next(), item),
        None => (None, path),
    };
    Name::Item {
        qualifier,
        item,
        macro_,
    }
}

/// The block an item is defined directly inside.
#[derive(Clone, Debug, PartialEq)]
enum Scope {
    /// The top of the file.
    File,
    /// `impl [Trait for] Type { }`: the base names (`Wake`, `Task` for `impl<F> Wake for Task<F>`).
    Impl { ty: String, trait_: Option<String> },
    /// `trait Name { }`.
    Trait(String),
    /// `mod name { }`.
    Mod(String),
    /// Any other block: a function body, a struct's fields, a macro's rules.
    Block,
}

impl Scope {
    fn names(&self, name: &str) -> bool {
        match self {
            Scope::Impl { ty, trait_ } => ty == name || trait_.as_deref() == Some(name),
            Scope::Trait(n) | Scope::Mod(n) => n == name,
            Scope::File | Scope::Block => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Scope::File => "at the top of the file".to_string(),
            Scope::Impl { ty, trait_: None } => format!("in `impl {ty}`"),
            Scope::Impl {
                ty,
                trait_: Some(t),
            } => format!("in `impl {t} for {ty}`"),
            Scope::Trait(n) => format!("in `trait {n}`"),
            Scope::Mod(n) => format!("in `mod {n}`"),
            Scope::Block => "inside a function body or another block".to_string(),
        }
    }
}

/// One item defined in a file.
#[derive(Debug)]
struct Definition {
    keyword: &'static str,
    name: String,
    scope: Scope,
    /// 1-based line in the file.
    line: usize,
}

/// `source` with comments, string literals and char literals replaced by spaces (line breaks
/// kept, so that line numbers still hold); lifetimes stay.
fn blank(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let blank_range = |out: &mut String, range: &[char]| {
        out.extend(range.iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_ident = i > 0 && ident(chars[i - 1]);
        let end = if c == '/' && next == Some('/') {
            chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |n| i + n)
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (0usize, i);
            loop {
                match (chars.get(j), chars.get(j + 1)) {
                    (Some('/'), Some('*')) => (depth, j) = (depth + 1, j + 2),
                    (Some('*'), Some('/')) if depth == 1 => break j + 2,
                    (Some('*'), Some('/')) => (depth, j) = (depth - 1, j + 2),
                    (Some(_), _) => j += 1,
                    (None, _) => break chars.len(),
                }
            }
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            (j + 1).min(chars.len())
        } else if c == 'r' && !prev_ident && matches!(next, Some('"' | '#')) {
            // A raw string `r#"..."#` (the `b` of `br"..."` stays an identifier).
            let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = i + 2 + hashes;
            (body..chars.len())
                .find(|&j| chars[j..].starts_with(&closing))
                .map_or(chars.len(), |j| j + closing.len())
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\'', '\u{1F600}'
            (i + 3..chars.len())
                .find(|&j| chars[j] == '\'')
                .map_or(chars.len(), |j| j + 1)
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i + 3
        } else {
            out.push(c);
            i += 1;
            continue;
        };
        blank_range(&mut out, &chars[i..end]);
        i = end;
    }
    out
}

/// A token of blanked source and its 1-based line.
fn tokens(code: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let len = if b == b'\n' {
            line += 1;
            i += 1;
            continue;
        } else if b.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if ident(b) || (b == b'\'' && bytes.get(i + 1).copied().is_some_and(ident)) {
            1 + bytes[i + 1..].iter().take_while(|&&b| ident(b)).count()
        } else if matches!(
            &bytes[i..],
            [b':', b':', ..] | [b'-', b'>', ..] | [b'=', b'>', ..]
        ) {
            2
        } else {
            1
        };
        // Identifier bytes are ASCII or whole UTF-8 sequences, so `i..i + len` is a char boundary.
        out.push((&code[i..i + len], line));
        i += len;
    }
    out
}

/// The base name of a type written as tokens: `crate::x::Flush<'_>` -> `Flush`,
/// `&'a mut Inner` -> `Inner`.
fn base_name(tokens: &[&str]) -> String {
    let mut depth = 0usize;
    let mut name = "";
    for &t in tokens {
        match t {
            "<" => depth += 1,
            ">" => depth = depth.saturating_sub(1),
            "+" if depth == 0 => break,
            t if depth == 0 && is_ident(t) && t != "mut" && t != "dyn" => name = t,
            _ => {}
        }
    }
    name.to_string()
}

/// The scope an `impl` header opens, from the tokens after `impl` up to its `{`.
fn impl_scope(header: &[&str]) -> Scope {
    let mut rest = header;
    // `impl<T: Bound> ...`: skip the generic parameters.
    if rest.first() == Some(&"<") {
        let mut depth = 0usize;
        let mut skip = rest.len();
        for (i, &t) in rest.iter().enumerate() {
            match t {
                "<" => depth += 1,
                ">" => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                skip = i + 1;
                break;
            }
        }
        rest = &rest[skip..];
    }
    if let Some(at) = rest.iter().position(|&t| t == "where") {
        rest = &rest[..at];
    }
    let mut depth = 0usize;
    let split = rest.iter().position(|&t| {
        match t {
            "<" => depth += 1,
            ">" => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && t == "for"
    });
    match split {
        Some(at) => Scope::Impl {
            ty: base_name(&rest[at + 1..]),
            trait_: Some(base_name(&rest[..at])),
        },
        None => Scope::Impl {
            ty: base_name(rest),
            trait_: None,
        },
    }
}

/// Every item defined in `source`, with the block it is directly inside.
fn definitions(source: &str) -> Vec<Definition> {
    let code = blank(source);
    let toks = tokens(&code);
    let mut defs = Vec::new();
    let mut stack: Vec<Scope> = Vec::new();
    // The scope the next `{` opens, once an `impl`, `trait` or `mod` header has been read.
    let mut pending: Option<Scope> = None;
    for (i, &(t, line)) in toks.iter().enumerate() {
        let next = toks.get(i + 1).map(|&(t, _)| t);
        match t {
            "{" => stack.push(pending.take().unwrap_or(Scope::Block)),
            "}" => {
                stack.pop();
            }
            ";" if matches!(pending, Some(Scope::Mod(_))) => pending = None,
            _ => {}
        }
        let Some(&keyword) = KEYWORDS.iter().find(|&&k| k == t) else {
            continue;
        };
        let scope = stack.last().cloned().unwrap_or(Scope::File);
        if keyword == "impl" {
            // An item `impl` follows the end of an item, an attribute or `unsafe`, unlike the
            // `impl Trait` of a type (`-> impl Future`, `x: impl Fn()`).
            let prev = i.checked_sub(1).map(|p| toks[p].0);
            if matches!(
                prev,
                None | Some("{" | "}" | ";" | "]" | "unsafe" | "default")
            ) {
                let end = toks[i + 1..]
                    .iter()
                    .position(|&(t, _)| t == "{" || t == ";")
                    .map_or(toks.len(), |n| i + 1 + n);
                let header: Vec<&str> = toks[i + 1..end].iter().map(|&(t, _)| t).collect();
                pending = Some(impl_scope(&header));
            }
            continue;
        }
        let name = if keyword == "macro_rules" {
            (next == Some("!"))
                .then(|| toks.get(i + 2).map(|&(t, _)| t))
                .flatten()
        } else {
            next
        };
        let Some(name) = name.filter(|n| is_ident(n)) else {
            continue;
        };
        match keyword {
            "trait" => pending = Some(Scope::Trait(name.to_string())),
            "mod" => pending = Some(Scope::Mod(name.to_string())),
            _ => {}
        }
        defs.push(Definition {
            keyword,
            name: name.to_string(),
            scope,
            line,
        });
    }
    defs
}

/// The name of the module a source file is: `sys` for `iostream/src/sys.rs` and
/// `reactor/src/sys/mod.rs`, the crate for a `lib.rs`.
fn module_name(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let file = parts.next().unwrap_or(path);
    match file.strip_suffix(".rs").unwrap_or(file) {
        "mod" => parts.next().unwrap_or(""),
        "lib" | "main" => path.split('/').next().unwrap_or(""),
        stem => stem,
    }
}

/// Why `source` (the text of `path`) does not hold what `name` asks for, or `None` if it does.
fn problem(name: &str, path: &str, source: &str) -> Option<String> {
    let (qualifier, item, macro_) = match parse_name(name) {
        Name::Code(code) => {
            return (!source.contains(code)).then(|| "the code is not in the file".to_string())
        }
        Name::Item {
            qualifier,
            item,
            macro_,
        } => (qualifier, item, macro_),
    };
    let defs = definitions(source);
    let named: Vec<&Definition> = defs
        .iter()
        .filter(|d| d.name == item && (!macro_ || d.keyword == "macro_rules"))
        .collect();
    let what = if macro_ {
        format!("`macro_rules! {item}`")
    } else {
        format!("`{item}`")
    };
    if named.is_empty() {
        return Some(format!("{what} is not defined in the file"));
    }
    // A single name holds wherever the file defines it.
    let qualifier = qualifier?;
    let holds = |d: &Definition| {
        d.scope.names(qualifier) || (d.scope == Scope::File && module_name(path) == qualifier)
    };
    if named.iter().copied().any(holds) {
        return None;
    }
    let found: Vec<String> = named
        .iter()
        .map(|d| format!("{} (line {})", d.scope.describe(), d.line))
        .collect();
    Some(format!(
        "{what} is defined in the file, but not in an `impl`, `trait` or `mod` naming \
         `{qualifier}`: {}",
        found.join(", ")
    ))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, as a path relative to the workspace root.
fn rust_files(root: &Path, dir: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{dir}/{name}");
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            rust_files(root, &path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_reference_names_an_item_its_file_defines() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let (refs, mut broken) = references(&doc);
    assert!(
        refs.len() >= 40,
        "only {} `NAME` (`file.rs`) references found in ARCHITECTURE.md; has the format changed?",
        refs.len()
    );

    let mut sources: Vec<String> = Vec::new();
    for krate in CRATES {
        rust_files(&root, &format!("{krate}/src"), &mut sources);
    }
    sources.sort();
    let mut texts: HashMap<String, Option<String>> = HashMap::new();
    let mut text = |path: &str| -> Option<String> {
        texts
            .entry(path.to_string())
            .or_insert_with(|| std::fs::read_to_string(root.join(path)).ok())
            .clone()
    };

    for r in &refs {
        let why = match text(&r.path) {
            None => Some("no such file".to_string()),
            Some(source) => problem(&r.name, &r.path, &source),
        };
        let Some(why) = why else { continue };
        let now: Vec<&str> = sources
            .iter()
            .filter(|path| text(path).is_some_and(|s| problem(&r.name, path, &s).is_none()))
            .map(String::as_str)
            .collect();
        let now = if now.is_empty() {
            "defined in no file of the workspace".to_string()
        } else {
            format!("now in {}", now.join(", "))
        };
        broken.push(format!(
            "ARCHITECTURE.md:{}: `{}` (`{}`): {why}; {now}",
            r.doc_line, r.name, r.path
        ));
    }
    assert!(
        broken.is_empty(),
        "{} of {} references in ARCHITECTURE.md no longer hold:\n{}",
        broken.len(),
        refs.len(),
        broken.join("\n")
    );
}

/// A small file with the shapes the checker must tell apart.
const SAMPLE: &str = r##"
//! fn in_doc_comment() {}
use std::future::Future;

pub(crate) struct Inner<T> { field: T }

impl<T: Clone> Inner<T> {
    /// fn in_a_comment() {}
    pub(crate) fn turn(&self, block: bool) -> impl Future<Output = ()> + '_ {
        fn helper() {}
        let s = "fn in_a_string() {";
        let c = '{';
        async move { let _ = (s, c, block); }
    }
}

impl Outer {
    fn elsewhere(&self) -> char { '}' }
}

impl<'a, F: Fn() -> u8> Future for Flush<'a, F> where F: Clone {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> { libc::epoll_wait(0); }
}

pub trait RequestHandler {
    async fn get(&mut self) {}
}

mod nested {
    pub fn inside() {}
}

/* fn in_a_block_comment() { /* nested */ } */
pub fn read(fd: i32) -> &'static str { r#"fn in_a_raw_string() {"# }

macro_rules! trace_step {
    () => {};
}
"##;

#[test]
fn the_checker_accepts_what_a_file_defines() {
    let ok = |name: &str, path: &str| {
        assert_eq!(problem(name, path, SAMPLE), None, "{name} in {path}");
    };
    ok("Inner::turn", "reactor/src/reactor.rs");
    ok("Inner", "reactor/src/reactor.rs");
    ok("Outer::elsewhere", "x/src/a.rs");
    ok("Flush::poll", "iostream/src/stream.rs");
    ok("Future::poll", "iostream/src/stream.rs");
    ok("Flush::Output", "iostream/src/stream.rs");
    ok("RequestHandler::get", "web/src/handler.rs");
    ok("nested::inside", "x/src/a.rs");
    ok("sys::read", "iostream/src/sys.rs");
    ok("sys::read", "reactor/src/sys/mod.rs");
    ok("read", "x/src/a.rs");
    ok("helper", "x/src/a.rs");
    ok("turn()", "x/src/a.rs");
    ok("trace_step!", "reactor/src/lib.rs");
    ok("reactor::trace_step!", "reactor/src/lib.rs");
    ok("libc::epoll_wait(", "reactor/src/sys/epoll.rs");
    ok("async move { let _ = (s, c, block); }", "x/src/a.rs");
}

#[test]
fn the_checker_rejects_a_wrong_file_a_missing_item_and_a_different_impl() {
    let fails = |name: &str, path: &str, source: &str, why: &str| {
        let problem = problem(name, path, source);
        assert!(
            problem.as_deref().is_some_and(|p| p.contains(why)),
            "{name} in {path}: {problem:?}, expected {why:?}"
        );
    };
    let not_defined = "is not defined in the file";
    // The wrong file: the item is real, just not in this file.
    let other_file = "impl Reactor { fn run(&self) {} }\nfn spawn() {}\n";
    fails(
        "Inner::turn",
        "reactor/src/task.rs",
        other_file,
        not_defined,
    );
    fails(
        "trace_step!",
        "reactor/src/task.rs",
        other_file,
        not_defined,
    );
    // A missing item.
    fails("Inner::spin", "reactor/src/reactor.rs", SAMPLE, not_defined);
    fails("accept_loop", "x/src/a.rs", SAMPLE, not_defined);
    fails(
        "Method::Get => get",
        "x/src/a.rs",
        SAMPLE,
        "the code is not",
    );
    // Defined, but in a different impl, in a nested function, or not at the top of `sys`.
    let elsewhere = "not in an `impl`, `trait` or `mod` naming";
    fails("Outer::turn", "x/src/a.rs", SAMPLE, elsewhere);
    fails(
        "Inner::elsewhere",
        "x/src/a.rs",
        SAMPLE,
        "in `impl Outer` (line 18)",
    );
    fails(
        "Inner::helper",
        "x/src/a.rs",
        SAMPLE,
        "inside a function body",
    );
    fails(
        "Clone::poll",
        "x/src/a.rs",
        SAMPLE,
        "in `impl Future for Flush` (line 23)",
    );
    fails("sys::turn", "iostream/src/sys.rs", SAMPLE, elsewhere);
    fails(
        "net::read",
        "iostream/src/sys.rs",
        SAMPLE,
        "at the top of the file",
    );
    // A function is not a macro; comments and strings define nothing.
    fails(
        "read!",
        "x/src/a.rs",
        SAMPLE,
        "`macro_rules! read` is not defined",
    );
    for hidden in [
        "in_doc_comment",
        "in_a_comment",
        "in_a_string",
        "in_a_block_comment",
        "in_a_raw_string",
    ] {
        fails(hidden, "x/src/a.rs", SAMPLE, not_defined);
    }
}

#[test]
fn references_are_found_in_the_document_text() {
    let doc = "1. `Inner::turn`\n   (`reactor/src/reactor.rs`) and `a.b()` (`x.rs`), not `c` \
               (`d.md`), not `e` (`f(x)`).\nThe syntax is `` `NAME` (`path/file.rs`) ``.\n\
               Stale: `g` (`y.rs:12`).\n```text\n`h` (`z.rs`)\n```\n";
    let (refs, errors) = references(doc);
    assert_eq!(
        refs,
        [
            Reference {
                name: "Inner::turn".into(),
                path: "reactor/src/reactor.rs".into(),
                doc_line: 2
            },
            Reference {
                name: "a.b()".into(),
                path: "x.rs".into(),
                doc_line: 2
            },
        ]
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("ARCHITECTURE.md:4: `g` (`y.rs:12`)"));

    assert_eq!(
        parse_name("Inner::turn"),
        Name::Item {
            qualifier: Some("Inner"),
            item: "turn",
            macro_: false
        }
    );
    assert_eq!(
        parse_name("trace_step!"),
        Name::Item {
            qualifier: None,
            item: "trace_step",
            macro_: true
        }
    );
    assert_eq!(
        parse_name("libc::epoll_wait("),
        Name::Code("libc::epoll_wait(")
    );
    assert_eq!(module_name("reactor/src/sys/mod.rs"), "sys");
    assert_eq!(module_name("reactor/src/lib.rs"), "reactor");
    assert_eq!(module_name("http1/src/date.rs"), "date");
}
