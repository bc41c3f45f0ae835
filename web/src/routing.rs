//! Routing (Tornado's `URLSpec`, `RuleRouter` and `Application.add_handlers`): which target
//! serves a request, and with which path arguments.
//!
//! A [`UrlSpec`] is a regular expression anchored at both ends, matched against the *raw*
//! (still percent-encoded) path. Its groups are percent-decoded with `+` kept as `+` (a path is
//! not a form) and must then be UTF-8, or the request is a 400. Unnamed groups become
//! positional path arguments; if the pattern has named groups, only those are passed, by name.
//! A pattern without regex syntax (`/`, `/echo`) is compared as a plain string: matching it
//! allocates nothing.
//!
//! A [`Router`] holds host groups in the order added ([`Router::add_handlers`]) and the
//! wildcard group last; the first route that matches wins, and a host group whose routes all
//! miss falls through to the next group. No match at all is the caller's 404.
//!
//! The router is generic over its target `T` (the application stores handler factories); it
//! knows nothing of handlers.

use std::ops::Range;

use regex::Regex;

use crate::error::HttpError;

/// One route: an anchored pattern, a target, and an optional name for `reverse_url`.
///
/// ```
/// use web::routing::{PathArgs, UrlSpec};
/// let spec = UrlSpec::new(r"/user/(\d+)/(.*)", "user").name("user");
/// let mut args = PathArgs::default();
/// assert!(spec.matches("/user/42/a%20b+c", &mut args).unwrap());
/// assert_eq!(args.get(0), Some("42"));
/// assert_eq!(args.get(1), Some("a b+c"));
/// assert_eq!(spec.reverse(&["7", "x y"]).unwrap(), "/user/7/x%20y");
/// ```
#[derive(Debug)]
pub struct UrlSpec<T> {
    pattern: String,
    matcher: Matcher,
    target: T,
    name: Option<String>,
    /// The pattern as literal pieces and group slots, if it is simple enough to reverse.
    reverse: Option<Vec<Piece>>,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// A pattern without regex syntax: plain string equality.
    Literal(String),
    /// A compiled `^(?:pattern)$`, its group count, and whether it has named groups.
    Regex {
        re: Regex,
        groups: usize,
        named: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Arg,
}

impl<T> UrlSpec<T> {
    /// A route for `pattern`; panics if the pattern is not a valid regex (routes are written
    /// by the programmer and built at startup, like Tornado's `re.compile` in `URLSpec`).
    /// Use [`UrlSpec::try_new`] to handle the error instead.
    pub fn new(pattern: &str, target: T) -> UrlSpec<T> {
        match UrlSpec::try_new(pattern, target) {
            Ok(spec) => spec,
            Err(e) => panic!("invalid route pattern {pattern:?}: {e}"),
        }
    }

    /// A route for `pattern`, or the regex compile error.
    pub fn try_new(pattern: &str, target: T) -> Result<UrlSpec<T>, regex::Error> {
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let body = body.strip_suffix('$').unwrap_or(body);
        let matcher = if body.bytes().all(is_plain_path_byte) {
            Matcher::Literal(body.to_string())
        } else {
            let re = Regex::new(&format!("^(?:{body})$"))?;
            let groups = re.captures_len() - 1;
            let named = re.capture_names().flatten().next().is_some();
            Matcher::Regex { re, groups, named }
        };
        let groups = match &matcher {
            Matcher::Literal(_) => 0,
            Matcher::Regex { groups, .. } => *groups,
        };
        Ok(UrlSpec {
            pattern: pattern.to_string(),
            reverse: reverse_pieces(body, groups),
            matcher,
            target,
            name: None,
        })
    }

    /// A copy of this route with no target.
    fn without_target(&self) -> UrlSpec<()> {
        UrlSpec {
            pattern: self.pattern.clone(),
            matcher: self.matcher.clone(),
            target: (),
            name: self.name.clone(),
            reverse: self.reverse.clone(),
        }
    }

    /// Names the route for [`Router::reverse_url`] (builder style).
    pub fn name(mut self, name: &str) -> UrlSpec<T> {
        self.name = Some(name.to_string());
        self
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The route's target.
    pub fn target(&self) -> &T {
        &self.target
    }

    /// Whether `path` (raw, percent-encoded) matches; on a match `args` holds the decoded
    /// groups. A group that does not decode to UTF-8 is a 400.
    pub fn matches(&self, path: &str, args: &mut PathArgs) -> Result<bool, HttpError> {
        args.clear();
        match &self.matcher {
            Matcher::Literal(lit) => Ok(lit == path),
            Matcher::Regex { re, groups: 0, .. } => Ok(re.is_match(path)),
            Matcher::Regex { re, named, .. } => {
                let Some(caps) = re.captures(path) else {
                    return Ok(false);
                };
                if *named {
                    for (i, name) in re.capture_names().enumerate() {
                        if let Some(name) = name {
                            args.push_named(name, caps.get(i).map(|m| m.as_str()))?;
                        }
                    }
                } else {
                    for m in caps.iter().skip(1) {
                        args.push(m.map(|m| m.as_str()))?;
                    }
                }
                Ok(true)
            }
        }
    }

    /// The path for these arguments (Tornado's `URLSpec.reverse`): each argument is
    /// percent-escaped (`/` kept) into its group's place. A 500 `HttpError` if the pattern is
    /// too complex to reverse or the number of arguments is wrong.
    pub fn reverse(&self, args: &[&str]) -> Result<String, HttpError> {
        let pieces = self.reverse.as_ref().ok_or_else(|| {
            HttpError::with_log(500, format!("cannot reverse route {:?}", self.pattern))
        })?;
        let wanted = pieces.iter().filter(|p| **p == Piece::Arg).count();
        if wanted != args.len() {
            return Err(HttpError::with_log(
                500,
                format!(
                    "route {:?} takes {wanted} arguments, {} given",
                    self.pattern,
                    args.len()
                ),
            ));
        }
        let mut args = args.iter();
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Literal(s) => out.push_str(s),
                Piece::Arg => out.push_str(&crate::escape::url_escape(
                    args.next().copied().unwrap_or(""),
                    false,
                )),
            }
        }
        Ok(out)
    }
}

/// Bytes that never have a regex meaning, so a pattern made only of them is a literal path.
fn is_plain_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"/-_~%!&',;=@:".contains(&b)
}

/// Tornado's `URLSpec._find_groups`: the pattern as literal pieces and group slots, or `None`
/// when it is not simple (nested or non-capturing groups, escapes like `\d` outside groups).
fn reverse_pieces(body: &str, groups: usize) -> Option<Vec<Piece>> {
    if body.matches('(').count() != groups {
        return None;
    }
    let mut pieces = Vec::new();
    for (i, fragment) in body.split('(').enumerate() {
        let literal = if i == 0 {
            fragment
        } else {
            pieces.push(Piece::Arg);
            let close = fragment.find(')')?;
            &fragment[close + 1..]
        };
        pieces.push(Piece::Literal(re_unescape(literal)?));
    }
    Some(pieces)
}

/// `\x` → `x` for non-alphanumeric `x`; `None` for `\d`-style escapes (Tornado's `re_unescape`).
fn re_unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let next = chars.next()?;
            if next.is_ascii_alphanumeric() {
                return None;
            }
            out.push(next);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The decoded path arguments of a match: positional, or named when the pattern names its
/// groups. A group that did not take part in the match is `None`. Storage is reused across
/// requests (one string arena), so decoding allocates nothing once warm.
#[derive(Debug, Default, Clone)]
pub struct PathArgs {
    arena: String,
    positional: Vec<Option<Range<usize>>>,
    named: Vec<(Range<usize>, Option<Range<usize>>)>,
    scratch: Vec<u8>,
}

impl PathArgs {
    /// Forgets every argument, keeping the storage.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.positional.clear();
        self.named.clear();
    }

    /// The number of positional arguments.
    pub fn len(&self) -> usize {
        self.positional.len()
    }

    /// Whether there are no positional arguments.
    pub fn is_empty(&self) -> bool {
        self.positional.is_empty()
    }

    /// Positional argument `i` (`None` if absent or its group did not match).
    pub fn get(&self, i: usize) -> Option<&str> {
        let range = self.positional.get(i)?.clone()?;
        Some(&self.arena[range])
    }

    /// The named argument `name` (`None` if absent or its group did not match).
    pub fn get_named(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(n, _)| &self.arena[n.clone()] == name)
            .and_then(|(_, v)| v.clone())
            .map(|v| &self.arena[v])
    }

    /// The positional arguments in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.positional
            .iter()
            .map(|r| r.clone().map(|r| &self.arena[r]))
    }

    /// The named arguments in pattern order.
    pub fn iter_named(&self) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        self.named
            .iter()
            .map(|(n, v)| (&self.arena[n.clone()], v.clone().map(|v| &self.arena[v])))
    }

    fn push(&mut self, raw: Option<&str>) -> Result<(), HttpError> {
        let value = raw.map(|raw| self.decode(raw)).transpose()?;
        self.positional.push(value);
        Ok(())
    }

    fn push_named(&mut self, name: &str, raw: Option<&str>) -> Result<(), HttpError> {
        let start = self.arena.len();
        self.arena.push_str(name);
        let name = start..self.arena.len();
        let value = raw.map(|raw| self.decode(raw)).transpose()?;
        self.named.push((name, value));
        Ok(())
    }

    /// Percent-decodes (`+` kept) onto the arena; not UTF-8 → 400.
    fn decode(&mut self, raw: &str) -> Result<Range<usize>, HttpError> {
        self.scratch.clear();
        crate::escape::url_unescape_into(&mut self.scratch, raw.as_bytes(), false);
        let text = std::str::from_utf8(&self.scratch)
            .map_err(|_| HttpError::bad_request("invalid UTF-8 in path argument"))?;
        let start = self.arena.len();
        self.arena.push_str(text);
        Ok(start..self.arena.len())
    }
}

/// A group of routes that applies to hosts matching a pattern.
#[derive(Debug)]
struct HostGroup<T> {
    /// `None` for the wildcard group.
    host: Option<Regex>,
    routes: Vec<UrlSpec<T>>,
}

/// Routes grouped by host: host groups in the order added, then the wildcard group.
///
/// ```
/// use web::routing::{PathArgs, Router, UrlSpec};
/// let mut r = Router::new(vec![UrlSpec::new("/", "home"), UrlSpec::new("/a", "a")]);
/// r.add_handlers(r"api\.example\.com", vec![UrlSpec::new("/", "api")]);
/// let mut args = PathArgs::default();
/// assert_eq!(r.find("API.example.com:8080", "/", &mut args).unwrap(), Some(&"api"));
/// assert_eq!(r.find("api.example.com", "/a", &mut args).unwrap(), Some(&"a")); // falls through
/// assert_eq!(r.find("other", "/", &mut args).unwrap(), Some(&"home"));
/// assert_eq!(r.find("other", "/missing", &mut args).unwrap(), None);
/// ```
#[derive(Debug)]
pub struct Router<T> {
    groups: Vec<HostGroup<T>>,
}

impl<T> Router<T> {
    /// A router whose wildcard group (any host) has `routes`.
    pub fn new(routes: Vec<UrlSpec<T>>) -> Router<T> {
        Router {
            groups: vec![HostGroup { host: None, routes }],
        }
    }

    /// Adds routes for hosts matching `host_pattern` (anchored, case-insensitive, matched
    /// against the `Host` header without its port). They are tried before the wildcard group
    /// and after host groups added earlier. Panics on an invalid pattern, as [`UrlSpec::new`].
    pub fn add_handlers(&mut self, host_pattern: &str, routes: Vec<UrlSpec<T>>) {
        let body = host_pattern.strip_prefix('^').unwrap_or(host_pattern);
        let body = body.strip_suffix('$').unwrap_or(body);
        let host = match Regex::new(&format!("(?i)^(?:{body})$")) {
            Ok(re) => re,
            Err(e) => panic!("invalid host pattern {host_pattern:?}: {e}"),
        };
        let at = self.groups.len() - 1;
        self.groups.insert(
            at,
            HostGroup {
                host: Some(host),
                routes,
            },
        );
    }

    /// The target for a request to `host` (the `Host` header, port allowed) and raw `path`,
    /// with its decoded arguments in `args`; `Ok(None)` when nothing matches (a 404).
    pub fn find(
        &self,
        host: &str,
        path: &str,
        args: &mut PathArgs,
    ) -> Result<Option<&T>, HttpError> {
        self.find_with(|| host, path, args)
    }

    /// [`find`](Self::find) with the host given by `host`, called only if a host group needs
    /// it (most applications have none, and the host need not even be turned into text).
    pub fn find_with<'h>(
        &self,
        host: impl FnOnce() -> &'h str,
        path: &str,
        args: &mut PathArgs,
    ) -> Result<Option<&T>, HttpError> {
        // Only host groups look at the host: it is asked for, and its port cut off, the first
        // time one does.
        let mut host = Some(host);
        let mut host_name = None;
        for group in &self.groups {
            if let Some(re) = &group.host {
                let name = host_name
                    .get_or_insert_with(|| host_without_port(host.take().map_or("", |h| h())));
                if !re.is_match(name) {
                    continue;
                }
            }
            for spec in &group.routes {
                if spec.matches(path, args)? {
                    return Ok(Some(&spec.target));
                }
            }
        }
        args.clear();
        Ok(None)
    }

    /// The path of the route named `name` with `args` in its groups (Tornado's
    /// `reverse_url`); a 500 `HttpError` if there is no such name or it cannot be reversed.
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, HttpError> {
        self.groups
            .iter()
            .flat_map(|g| &g.routes)
            .find(|s| s.name.as_deref() == Some(name))
            .ok_or_else(|| HttpError::with_log(500, format!("{name} not found in named urls")))?
            .reverse(args)
    }

    /// The named routes without their targets, for [`reverse_url`](Self::reverse_url) where the
    /// targets cannot go (templates' `reverse_url` runs on values shareable between threads).
    pub(crate) fn named_routes(&self) -> Router<()> {
        let named = self.routes().filter(|s| s.name.is_some());
        Router::new(named.map(UrlSpec::without_target).collect())
    }

    /// Every route, host groups first, in matching order.
    pub fn routes(&self) -> impl Iterator<Item = &UrlSpec<T>> {
        self.groups.iter().flat_map(|g| &g.routes)
    }
}

/// `example.com:80` → `example.com`; `[::1]:80` → `[::1]`.
pub(crate) fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    // A byte search (short input, ASCII colon: a char boundary).
    match host.bytes().rposition(|b| b == b':') {
        Some(colon) => &host[..colon],
        None => host,
    }
}

/// What a handler's [`Context`](crate::Context) sees of the router: reversing route names,
/// whatever the routes' target type.
pub(crate) trait ReverseUrl {
    /// [`Router::reverse_url`].
    fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, HttpError>;
}

impl<T> ReverseUrl for Router<T> {
    fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, HttpError> {
        Router::reverse_url(self, name, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(spec: &UrlSpec<()>, path: &str) -> Option<Vec<Option<String>>> {
        let mut a = PathArgs::default();
        spec.matches(path, &mut a)
            .unwrap()
            .then(|| a.iter().map(|s| s.map(String::from)).collect())
    }

    #[test]
    fn literal_routes_compare_plainly() {
        let s = UrlSpec::new("/", ());
        assert!(matches!(s.matcher, Matcher::Literal(_)));
        assert_eq!(args_of(&s, "/"), Some(vec![]));
        assert_eq!(args_of(&s, "/x"), None);
        assert_eq!(args_of(&s, ""), None);
        // Anchors are optional and mean the same.
        let s = UrlSpec::new("^/echo$", ());
        assert!(matches!(s.matcher, Matcher::Literal(_)));
        assert_eq!(args_of(&s, "/echo"), Some(vec![]));
        assert_eq!(args_of(&s, "/echo/"), None);
        assert_eq!(args_of(&s, "/echoes"), None);
    }

    #[test]
    fn regexes_are_anchored_both_ends() {
        let s = UrlSpec::new(r"/a.c", ());
        assert!(matches!(s.matcher, Matcher::Regex { .. }));
        assert_eq!(args_of(&s, "/abc"), Some(vec![]));
        assert_eq!(args_of(&s, "/abcd"), None);
        assert_eq!(args_of(&s, "x/abc"), None);
        // Alternation stays inside the anchors.
        let s = UrlSpec::new(r"/a|/b", ());
        assert_eq!(args_of(&s, "/a"), Some(vec![]));
        assert_eq!(args_of(&s, "/ab"), None);
        assert_eq!(args_of(&s, "x/b"), None);
    }

    #[test]
    fn groups_are_percent_decoded_plus_kept() {
        let s = UrlSpec::new(r"/path/(.*)", ());
        assert_eq!(
            args_of(&s, "/path/a%2Fb+c%20d"),
            Some(vec![Some("a/b+c d".into())])
        );
        assert_eq!(args_of(&s, "/path/%E2%82%AC"), Some(vec![Some("€".into())]));
        let mut a = PathArgs::default();
        assert_eq!(s.matches("/path/%FF", &mut a).unwrap_err().status, 400);
    }

    #[test]
    fn optional_groups_are_none() {
        let s = UrlSpec::new(r"/x(/\d+)?", ());
        assert_eq!(args_of(&s, "/x"), Some(vec![None]));
        assert_eq!(args_of(&s, "/x/5"), Some(vec![Some("/5".into())]));
    }

    #[test]
    fn named_groups_only() {
        let s = UrlSpec::new(r"/(?P<year>\d{4})/(\d+)/(?<slug>[^/]+)", ());
        let mut a = PathArgs::default();
        assert!(s.matches("/2024/7/hello%20there", &mut a).unwrap());
        assert!(
            a.is_empty(),
            "positional groups are dropped when some are named"
        );
        assert_eq!(a.get_named("year"), Some("2024"));
        assert_eq!(a.get_named("slug"), Some("hello there"));
        assert_eq!(a.get_named("nope"), None);
        assert_eq!(
            a.iter_named().collect::<Vec<_>>(),
            [("year", Some("2024")), ("slug", Some("hello there"))]
        );
    }

    #[test]
    fn reversing() {
        let s = UrlSpec::new(r"/a/(\d+)/b/([^/]+)$", ());
        assert_eq!(s.reverse(&["1", "x/y z"]).unwrap(), "/a/1/b/x/y%20z");
        assert_eq!(s.reverse(&["1"]).unwrap_err().status, 500);
        let s = UrlSpec::new(r"/file\.txt", ());
        assert_eq!(s.reverse(&[]).unwrap(), "/file.txt");
        assert!(UrlSpec::new(r"/(?:a|b)", ()).reverse(&[]).is_err());
        assert!(UrlSpec::new(r"/\d+/(x)", ()).reverse(&["x"]).is_err());
        assert_eq!(UrlSpec::new("/", ()).reverse(&[]).unwrap(), "/");
    }

    #[test]
    fn router_reverse_by_name() {
        let r = Router::new(vec![
            UrlSpec::new("/", 0).name("home"),
            UrlSpec::new(r"/u/(\w+)", 1).name("user"),
        ]);
        assert_eq!(r.reverse_url("home", &[]).unwrap(), "/");
        assert_eq!(r.reverse_url("user", &["bob"]).unwrap(), "/u/bob");
        assert_eq!(r.reverse_url("nope", &[]).unwrap_err().status, 500);
    }

    #[test]
    fn host_groups() {
        let mut r = Router::new(vec![UrlSpec::new("/", "any")]);
        r.add_handlers(r"www\.a\.com", vec![UrlSpec::new("/", "a1")]);
        r.add_handlers(
            r".*\.a\.com",
            vec![UrlSpec::new("/", "a2"), UrlSpec::new("/only", "a2o")],
        );
        let mut args = PathArgs::default();
        let mut find = |h: &str, p: &str| r.find(h, p, &mut args).unwrap().copied();
        assert_eq!(find("www.a.com", "/"), Some("a1"));
        assert_eq!(find("WWW.A.COM:8000", "/"), Some("a1"));
        assert_eq!(find("x.a.com", "/"), Some("a2"));
        assert_eq!(find("x.a.com", "/only"), Some("a2o"));
        assert_eq!(find("b.com", "/only"), None);
        assert_eq!(find("b.com", "/"), Some("any"));
        assert_eq!(
            find("xa.com", "/"),
            Some("any"),
            "host patterns are anchored"
        );
        assert_eq!(r.routes().count(), 4);
    }

    #[test]
    fn ports_stripped() {
        assert_eq!(host_without_port("a.com:80"), "a.com");
        assert_eq!(host_without_port("a.com"), "a.com");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
    }

    #[test]
    #[should_panic(expected = "invalid route pattern")]
    fn bad_pattern_panics() {
        UrlSpec::new("/(", ());
    }
}
