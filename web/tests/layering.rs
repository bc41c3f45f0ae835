//! The modules of `web/src` depend on each other one way: leaf modules (escape, error,
//! cookies, ...) below `context` and `handler`, the request engine (`dispatch`, `output`) on
//! top. This reads every `crate::module` path outside the unit tests and comments and fails
//! on any import circle, naming the modules in it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the modules it names through `crate::`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("web/src") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            sources.insert(name, std::fs::read_to_string(&path).expect("source"));
        }
    }
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (name, source) in &sources {
        let code = source.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let mut deps = BTreeSet::new();
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or("");
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                // `crate::a::..` or `crate::{a, b::..}`.
                let names = match rest.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap_or(""),
                    None => rest,
                };
                for word in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                    if modules.contains(word) && word != name {
                        deps.insert(word.to_owned());
                    }
                    if names.as_ptr() == rest.as_ptr() {
                        break; // a plain path: only its first segment is a module
                    }
                }
            }
        }
        graph.insert(name.clone(), deps);
    }
    graph
}

/// The modules reachable from `from`.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(m) = todo.pop() {
        for d in &graph[&m] {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn no_import_circle_in_web() {
    let graph = graph();
    assert!(graph.len() > 20, "read the modules: {graph:?}");
    assert!(graph["dispatch"].contains("application"), "{graph:?}");
    for module in graph.keys() {
        let circle: Vec<String> = reachable(&graph, module)
            .into_iter()
            .filter(|d| reachable(&graph, d).contains(module))
            .collect();
        assert!(
            circle.is_empty(),
            "{module} is in an import circle with {circle:?}"
        );
    }
}

#[test]
fn leaves_import_no_engine_module() {
    let graph = graph();
    let engine = [
        "application",
        "dispatch",
        "output",
        "target",
        "handler",
        "context",
    ];
    for leaf in [
        "escape",
        "error",
        "cookies",
        "signed_cookies",
        "etag",
        "arguments",
        "multipart",
    ] {
        let below = reachable(&graph, leaf);
        for e in engine {
            assert!(!below.contains(e), "{leaf} depends on {e}");
        }
    }
}
