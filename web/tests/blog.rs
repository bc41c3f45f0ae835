//! The blog demo (`web/examples/blog`, Tornado's `demos/blog`) driven end to end with curl (a
//! cookie jar and the `_xsrf` field, as a browser's form posts) and Python's `xml.etree` (the
//! Atom feed), on SQLite and on a real PostgreSQL server (`testkit::postgres`) through both
//! drivers (`--db-driver sync`: the `postgres` crate on helper threads; `tokio`: tokio-postgres
//! on the loop through the tokio bridge): the account, the login and its errors, composing and
//! editing, every page, the feed, the login redirect and XSRF. On PostgreSQL also its faults,
//! for each driver: the server going away (503, the blog lives) and coming back (200 again),
//! and a query held by a table lock while other requests go on; and `--db-pool` bounding the
//! connections each driver opens under 16 concurrent readers.

mod common;

#[allow(dead_code)]
#[path = "../examples/blog/main.rs"]
mod blog;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use blog::Driver;

/// A curl answer: status, `Location` (as a path) and body.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

/// Runs curl on `path` with cookie jar `jar` and extra `args` (e.g. `-d` fields).
fn curl(addr: SocketAddr, jar: &Path, path: &str, args: &[&str]) -> Answer {
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "30",
            "-w",
            "\n%{http_code} %{redirect_url}",
        ])
        .arg("-c")
        .arg(jar)
        .arg("-b")
        .arg(jar)
        .args(args)
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, last) = text.rsplit_once('\n').unwrap();
    let (status, location) = last.split_once(' ').unwrap();
    let location = location.trim_start_matches(&format!("http://{addr}"));
    Answer {
        status: status.parse().unwrap(),
        location: location.to_owned(),
        body: body.to_owned(),
    }
}

/// POSTs `fields` (url-encoded by curl) with the jar's `_xsrf` token.
fn post(addr: SocketAddr, jar: &Path, path: &str, fields: &[(&str, &str)]) -> Answer {
    let mut args = vec![
        "--data-urlencode".to_owned(),
        format!("_xsrf={}", xsrf(jar)),
    ];
    for (name, value) in fields {
        args.push("--data-urlencode".to_owned());
        args.push(format!("{name}={value}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(addr, jar, path, &args)
}

/// The `_xsrf` cookie's value in a curl cookie jar.
fn xsrf(jar: &Path) -> String {
    let jar = std::fs::read_to_string(jar).unwrap();
    let line = jar.lines().find(|l| l.contains("\t_xsrf\t"));
    line.expect("an _xsrf cookie")
        .rsplit('\t')
        .next()
        .unwrap()
        .to_owned()
}

fn has(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// A fresh temporary path for this test.
fn temp(tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("web-blog-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Serves the blog on the store at `url` through `driver`, with a cheap bcrypt cost (the tests
/// run unoptimized).
fn serve(url: &str, driver: Driver) -> SocketAddr {
    serve_with_pool(url, driver, 4)
}

/// [`serve`] with at most `pool` database connections.
fn serve_with_pool(url: &str, driver: Driver, pool: usize) -> SocketAddr {
    let url = url.to_owned();
    common::serve(move || {
        let db = blog::Db::open(&url, pool, driver).expect("the store opens");
        let state = blog::Blog {
            bcrypt_cost: 4,
            ..blog::Blog::new(db)
        };
        blog::make_app(state, "blog test secret", false)
    })
}

/// The titles and links of the Atom feed's entries, parsed by Python's `xml.etree`; also
/// checks the feed's own title.
fn feed_entries(xml: &str) -> Vec<(String, String)> {
    let script = r#"
import sys, xml.etree.ElementTree as ET
ns = {"a": "http://www.w3.org/2005/Atom"}
feed = ET.fromstring(sys.stdin.buffer.read())
assert feed.find("a:title", ns).text == "Tornado Blog"
assert feed.find("a:updated", ns).text.endswith("Z")
for e in feed.findall("a:entry", ns):
    body = e.find("a:content", ns)[0]
    assert body.tag == "{http://www.w3.org/1999/xhtml}div", body.tag
    print(e.find("a:title", ns).text + "\t" + e.find("a:link", ns).get("href"))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the feed parses: {xml}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (title, link) = l.split_once('\t').unwrap();
            (title.to_owned(), link.to_owned())
        })
        .collect()
}

/// Tornado's demo, the whole way through, as its author would use it.
fn whole_flow(addr: SocketAddr, tag: &str) {
    let jar = temp(&format!("{tag}.jar"));

    // No author yet: the login page sends to the account page; the blog to /compose.
    let a = curl(addr, &jar, "/auth/login", &[]);
    assert_eq!((a.status, a.location.as_str()), (302, "/auth/create"));
    let a = curl(addr, &jar, "/", &[]);
    assert_eq!((a.status, a.location.as_str()), (302, "/compose"));
    let a = curl(addr, &jar, "/auth/create", &[]);
    assert_eq!(a.status, 200);
    for field in [
        "name=\"email\"",
        "name=\"name\"",
        "name=\"password\"",
        "name=\"_xsrf\"",
    ] {
        assert!(a.body.contains(field), "{field}: {}", a.body);
    }

    // A POST without the _xsrf field is refused.
    let a = curl(
        addr,
        &jar,
        "/auth/create",
        &["-d", "email=a@b.c&name=A&password=p"],
    );
    assert_eq!(a.status, 403);

    // The author's account: logged in at once, sent to `next`.
    let author = [
        ("email", "ann@example.com"),
        ("name", "Ann"),
        ("password", "s3cret"),
    ];
    let a = post(addr, &jar, "/auth/create?next=/archive", &author);
    assert_eq!(
        (a.status, a.location.as_str()),
        (302, "/archive"),
        "{}",
        a.body
    );
    let cookies = std::fs::read_to_string(&jar).unwrap();
    assert!(cookies.contains("\tblogdemo_user\t"), "{cookies}");
    let a = curl(addr, &jar, "/archive", &[]);
    assert!(a.body.contains("Sign out"), "logged in: {}", a.body);

    // Only one author: a second account is a 400, even from someone else.
    let other = temp(&format!("{tag}-other.jar"));
    curl(addr, &other, "/auth/create", &[]);
    let a = post(addr, &other, "/auth/create", &author);
    assert_eq!(a.status, 400);

    // Log out, then the login form's two errors, then a login.
    let a = curl(addr, &jar, "/auth/logout?next=/archive", &[]);
    assert_eq!((a.status, a.location.as_str()), (302, "/archive"));
    let a = curl(addr, &jar, "/archive", &[]);
    assert!(a.body.contains("Sign in</a> to compose/edit"), "{}", a.body);
    let a = curl(addr, &jar, "/auth/login", &[]);
    assert_eq!(a.status, 200);
    assert!(!a.body.contains("Error:"));
    let wrong = [("email", "bob@example.com"), ("password", "s3cret")];
    let a = post(addr, &jar, "/auth/login", &wrong);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Error: email not found"), "{}", a.body);
    let wrong = [("email", "ann@example.com"), ("password", "guess")];
    let a = post(addr, &jar, "/auth/login", &wrong);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Error: incorrect password"), "{}", a.body);
    let right = [("email", "ann@example.com"), ("password", "s3cret")];
    let a = post(addr, &jar, "/auth/login?next=//evil.example/", &right);
    assert_eq!(a.status, 400, "no open redirect");
    let a = post(addr, &jar, "/auth/login", &right);
    assert_eq!((a.status, a.location.as_str()), (302, "/"));

    // Two entries with one title get unique slugs; Markdown becomes HTML.
    let a = curl(addr, &jar, "/compose", &[]);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("value=\"Publish post\""), "{}", a.body);
    let first = [("title", "Hello, World!"), ("markdown", "*one* <b>x</b>")];
    let a = post(addr, &jar, "/compose", &first);
    assert_eq!((a.status, a.location.as_str()), (302, "/entry/hello-world"));
    let second = [("title", "Hello, World!"), ("markdown", "two\n\n- a\n- b")];
    let a = post(addr, &jar, "/compose", &second);
    assert_eq!(
        (a.status, a.location.as_str()),
        (302, "/entry/hello-world-2")
    );
    let a = post(addr, &jar, "/compose", &[("title", "x")]);
    assert_eq!(a.status, 400, "markdown is required");

    // Edit the first: the form is filled in, the slug stays.
    let a = curl(addr, &jar, "/entry/hello-world", &[]);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("<em>one</em>"), "{}", a.body);
    let id = a.body.split("/compose?id=").nth(1).expect("an edit link");
    let id: String = id.chars().take_while(char::is_ascii_digit).collect();
    let a = curl(addr, &jar, &format!("/compose?id={id}"), &[]);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("value=\"Hello, World!\""), "{}", a.body);
    assert!(
        a.body.contains("*one* &lt;b&gt;x&lt;/b&gt;</textarea>"),
        "{}",
        a.body
    );
    assert!(a.body.contains(&format!("name=\"id\" value=\"{id}\"")));
    let edit = [
        ("id", id.as_str()),
        ("title", "Hello again"),
        ("markdown", "**edited**"),
    ];
    let a = post(addr, &jar, "/compose", &edit);
    assert_eq!((a.status, a.location.as_str()), (302, "/entry/hello-world"));
    assert_eq!(curl(addr, &jar, "/compose?id=99999", &[]).status, 404);
    assert_eq!(curl(addr, &jar, "/compose?id=x", &[]).status, 400);

    // Every page, logged out (as a reader).
    let reader = temp(&format!("{tag}-reader.jar"));
    let a = curl(addr, &reader, "/", &[]);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("<title>Tornado Blog</title>"));
    let newest = a.body.find("hello-world-2").expect("the second entry");
    let older = a.body.find("Hello again").expect("the edited entry");
    assert!(newest < older, "newest first");
    assert!(a.body.contains("<strong>edited</strong>"));
    assert!(a.body.contains("<li>a</li>"));
    assert!(
        !a.body.contains("Edit this post"),
        "no edit links for readers"
    );
    let a = curl(addr, &reader, "/entry/hello-world", &[]);
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<h1><a href=\"/entry/hello-world\">Hello again</a></h1>"));
    assert_eq!(curl(addr, &reader, "/entry/no-such-entry", &[]).status, 404);
    let a = curl(addr, &reader, "/archive", &[]);
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<a href=\"/entry/hello-world-2\">Hello, World!</a>"));
    assert!(a
        .body
        .contains("<a href=\"/entry/hello-world\">Hello again</a>"));
    let a = curl(addr, &reader, "/static/blog.css", &[]);
    assert_eq!(a.status, 200);

    // The feed: Atom, both entries, newest first.
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{content_type}"])
        .arg(format!("http://{addr}/feed"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "application/atom+xml");
    let a = curl(addr, &reader, "/feed", &[]);
    assert_eq!(a.status, 200);
    let entries = feed_entries(&a.body);
    let host = format!("http://{addr}");
    assert_eq!(
        entries,
        [
            (
                "Hello, World!".to_owned(),
                format!("{host}/entry/hello-world-2")
            ),
            (
                "Hello again".to_owned(),
                format!("{host}/entry/hello-world")
            ),
        ]
    );

    // /compose without a login goes to the login page, and a POST there is refused.
    let a = curl(addr, &reader, "/compose", &[]);
    assert_eq!(
        (a.status, a.location.as_str()),
        (302, "/auth/login?next=%2Fcompose")
    );
    let cookies = std::fs::read_to_string(&reader).unwrap();
    assert!(
        !cookies.contains("_xsrf"),
        "pages without a form set no _xsrf cookie"
    );
    curl(addr, &reader, "/auth/login", &[]); // the login form: an _xsrf cookie
    let a = post(addr, &reader, "/compose", &first);
    assert_eq!(a.status, 403);
    for jar in [jar, other, reader] {
        let _ = std::fs::remove_file(jar);
    }
}

#[test]
fn blog_on_sqlite_end_to_end_with_curl() {
    if !has("curl") || !has("python3") {
        println!("skipped: curl or python3 missing");
        return;
    }
    let file = temp("sqlite.db");
    let addr = serve(&format!("sqlite:{}", file.display()), Driver::DEFAULT);
    whole_flow(addr, "sqlite");
    assert!(file.exists(), "the data is in the file");
    let _ = std::fs::remove_file(file);
}

#[test]
fn blog_on_postgres_end_to_end_with_curl() {
    on_postgres_end_to_end_with_curl(Driver::Sync);
}

#[test]
fn blog_on_postgres_through_tokio_end_to_end_with_curl() {
    on_postgres_end_to_end_with_curl(Driver::Tokio);
}

fn on_postgres_end_to_end_with_curl(driver: Driver) {
    if !has("curl") || !has("python3") {
        println!("skipped: curl or python3 missing");
        return;
    }
    let Some(pg) = testkit::postgres::Postgres::start() else {
        return; // "skipped: PostgreSQL missing (...)" printed
    };
    let addr = serve(&pg.url(), driver);
    whole_flow(addr, &format!("postgres-{driver:?}"));
    let count = pg.psql("SELECT count(*) FROM entries").unwrap();
    assert_eq!(count.trim(), "2", "the entries are in PostgreSQL");
}

#[test]
fn a_store_that_cannot_open_is_a_clear_error() {
    let Err(e) = blog::Db::open("mysql://localhost/blog", 4, Driver::DEFAULT) else {
        panic!("mysql is not a store");
    };
    assert!(
        e.to_string()
            .contains("expected sqlite:PATH or postgres://"),
        "{e}"
    );
    let Err(e) = blog::Db::open("sqlite:/nonexistent-dir/blog.db", 4, Driver::DEFAULT) else {
        panic!("no such directory");
    };
    assert!(e.to_string().contains("/nonexistent-dir/blog.db"), "{e}");
    for driver in [Driver::Sync, Driver::Tokio] {
        // Nothing listens on port 1: unavailable, after the connect fails (not a hang).
        let Err(e) = blog::Db::open("postgres://blog@127.0.0.1:1/blog", 4, driver) else {
            panic!("no server on port 1");
        };
        assert!(e.to_string().starts_with("database unavailable"), "{e}");
        let Err(e) = blog::Db::open("postgres://blog@127.0.0.1:x/blog", 4, driver) else {
            panic!("not a port");
        };
        assert!(
            e.to_string().contains("--db postgres://"),
            "{driver:?}: {e}"
        );
    }
}

/// Logs in a new author on a fresh blog and posts one entry; returns the jar.
fn author_with_one_entry(addr: SocketAddr, tag: &str) -> PathBuf {
    let jar = temp(&format!("{tag}.jar"));
    curl(addr, &jar, "/auth/create", &[]);
    let author = [
        ("email", "ann@example.com"),
        ("name", "Ann"),
        ("password", "pw"),
    ];
    assert_eq!(post(addr, &jar, "/auth/create", &author).status, 302);
    let entry = [("title", "Faults"), ("markdown", "text")];
    assert_eq!(post(addr, &jar, "/compose", &entry).status, 302);
    jar
}

#[test]
fn blog_on_postgres_survives_the_server_going_away() {
    survives_the_server_going_away(Driver::Sync);
}

#[test]
fn blog_on_postgres_through_tokio_survives_the_server_going_away() {
    survives_the_server_going_away(Driver::Tokio);
}

fn survives_the_server_going_away(driver: Driver) {
    if !has("curl") {
        println!("skipped: curl missing");
        return;
    }
    let Some(pg) = testkit::postgres::Postgres::start() else {
        return;
    };
    let addr = serve(&pg.url(), driver);
    let jar = author_with_one_entry(addr, &format!("pg-faults-{driver:?}"));
    assert_eq!(curl(addr, &jar, "/", &[]).status, 200);

    pg.stop();
    for path in ["/", "/entry/faults", "/auth/login"] {
        let status = curl(addr, &jar, path, &[]).status;
        assert!(status == 503 || status == 500, "{path}: {status}");
    }
    // The server lives: what needs no database is served.
    assert_eq!(curl(addr, &jar, "/static/blog.css", &[]).status, 200);

    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = 0;
    while status != 200 && Instant::now() < deadline {
        status = curl(addr, &jar, "/", &[]).status;
    }
    assert_eq!(status, 200, "the blog recovers when PostgreSQL is back");
    let a = curl(addr, &jar, "/entry/faults", &[]);
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Edit this post"), "still logged in");
    let _ = std::fs::remove_file(jar);
}

#[test]
fn db_pool_bounds_the_connections_of_each_driver() {
    if !has("curl") {
        println!("skipped: curl missing");
        return;
    }
    let Some(pg) = testkit::postgres::Postgres::start() else {
        return;
    };
    // Client connections, less psql's own.
    let connections = || {
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'";
        pg.psql(sql).unwrap().trim().parse::<usize>().unwrap() - 1
    };
    let mut before = connections();
    for driver in [Driver::Sync, Driver::Tokio] {
        // A database per driver, each blog on a fresh one.
        let db = format!("pool_{driver:?}").to_lowercase();
        pg.psql(&format!("CREATE DATABASE {db}")).unwrap();
        let url = format!("{}/{db}", pg.url().rsplit_once('/').unwrap().0);
        let addr = serve_with_pool(&url, driver, 2);
        let jar = author_with_one_entry(addr, &format!("pg-pool-{driver:?}"));
        // 16 readers at once, each query wanting a connection.
        let readers: Vec<_> = (0..16)
            .map(|_| std::thread::spawn(move || curl(addr, Path::new("/dev/null"), "/", &[])))
            .collect();
        for reader in readers {
            let a = reader.join().unwrap();
            assert_eq!(a.status, 200, "{driver:?}: {}", a.body);
            assert!(a.body.contains("/entry/faults"), "{driver:?}");
        }
        let now = connections();
        let opened = now - before;
        assert!(
            (1..=2).contains(&opened),
            "{driver:?}: {opened} connections"
        );
        before = now;
        let _ = std::fs::remove_file(jar);
    }
}

#[test]
fn blog_on_postgres_slow_query_does_not_stall_the_loop() {
    slow_query_does_not_stall_the_loop(Driver::Sync);
}

#[test]
fn blog_on_postgres_through_tokio_slow_query_does_not_stall_the_loop() {
    slow_query_does_not_stall_the_loop(Driver::Tokio);
}

fn slow_query_does_not_stall_the_loop(driver: Driver) {
    if !has("curl") || !has("psql") {
        println!("skipped: curl or psql missing");
        return;
    }
    let Some(pg) = testkit::postgres::Postgres::start() else {
        return;
    };
    let addr = serve(&pg.url(), driver);
    let jar = author_with_one_entry(addr, &format!("pg-slow-{driver:?}"));

    // A psql session holds an exclusive lock on `entries` until it commits.
    let mut psql = pg
        .psql_command()
        .arg("-q")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("psql runs");
    let mut stdin = psql.stdin.take().unwrap();
    stdin
        .write_all(b"BEGIN; LOCK TABLE entries; SELECT 'locked';\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(psql.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    // GET / waits for the lock (on a helper thread, or as a future on the loop) ...
    let home_jar = jar.clone();
    let home = std::thread::spawn(move || curl(addr, &home_jar, "/", &[]));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!home.is_finished(), "GET / waits for the lock");
    // ... while requests that do not read `entries` are answered at once (several rounds:
    // more queries than the pool has connections).
    for path in ["/auth/login", "/static/blog.css"].repeat(3) {
        let started = Instant::now();
        assert_eq!(curl(addr, &jar, path, &[]).status, 200, "{path}");
        assert!(started.elapsed() < Duration::from_secs(2), "{path} stalled");
    }
    assert!(!home.is_finished());

    stdin.write_all(b"COMMIT;\n").unwrap();
    drop(stdin);
    let a = home.join().unwrap();
    assert_eq!(a.status, 200);
    assert!(a.body.contains("/entry/faults"), "{}", a.body);
    psql.wait().unwrap();
    let _ = std::fs::remove_file(jar);
}

// ---- two blog processes on one PostgreSQL database, behind nginx (docs/deploying.md) ----

/// The deployment guide, whose nginx configuration for the blog the test below runs.
const DEPLOYING: &str = include_str!("../../docs/deploying.md");

/// Not a test on its own: the blog's `run` (its `main`) in a child process of
/// `two_blog_processes_behind_nginx_are_one_site`, which runs this test binary again with
/// `BLOG_ARGS` (the command line) set.
#[test]
#[ignore = "a child process of two_blog_processes_behind_nginx_are_one_site"]
fn blog_child_process() {
    let args = std::env::var("BLOG_ARGS").expect("BLOG_ARGS: this runs as a child process");
    blog::run(args.split_whitespace().map(str::to_owned)).unwrap();
}

/// A child process, killed when dropped.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until something listens on `addr` (or `child` exits: a panic with `log`).
fn wait_listening(addr: SocketAddr, child: &mut std::process::Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        let exited = child.try_wait().unwrap();
        if exited.is_some() || Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("nothing listens on {addr} ({exited:?}):\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The blog's own program in a child process: `--port port` and `args`; its log (the access
/// log included) goes to `log`.
fn blog_process(port: u16, args: &str, log: &Path) -> Process {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["blog_child_process", "--exact", "--ignored", "--nocapture"])
        .env("BLOG_ARGS", format!("--port {port} {args}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), &mut child, log);
    Process(child)
}

/// nginx with the blog's site from docs/deploying.md, its upstreams and port replaced.
fn nginx_for_blogs(nginx: &Path, upstreams: [u16; 2], dir: &Path) -> (Process, SocketAddr) {
    let site = DEPLOYING
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("an nginx block in docs/deploying.md");
    let port = free_port();
    let site = site
        .replace("127.0.0.1:8001", &format!("127.0.0.1:{}", upstreams[0]))
        .replace("127.0.0.1:8002", &format!("127.0.0.1:{}", upstreams[1]))
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // Run as root, nginx's workers switch to `nobody`: they must be able to use tmp/.
    let writable = std::os::unix::fs::PermissionsExt::from_mode(0o777);
    std::fs::set_permissions(&tmp, writable).unwrap();
    let d = dir.display();
    let conf = format!(
        "worker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n access_log {d}/access.log;\n client_body_temp_path {d}/tmp/body;\n\
         proxy_temp_path {d}/tmp/proxy;\n fastcgi_temp_path {d}/tmp/fastcgi;\n\
         uwsgi_temp_path {d}/tmp/uwsgi;\n scgi_temp_path {d}/tmp/scgi;\n{site}}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let error_log = dir.join("error.log");
    let mut child = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(&error_log)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_listening(addr, &mut child, &error_log);
    (Process(child), addr)
}

fn find_nginx() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

#[test]
fn two_blog_processes_behind_nginx_are_one_site() {
    let Some(nginx) = find_nginx() else {
        println!("skipped: nginx missing");
        return;
    };
    if !has("curl") {
        println!("skipped: curl missing");
        return;
    }
    let Some(pg) = testkit::postgres::Postgres::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("web-blog-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // One process per driver: both drivers serve one site.
    let args = |driver: &str| {
        format!(
            "--db {} --db-pool 2 --db-driver {driver} --cookie-secret shared-secret",
            pg.url()
        )
    };
    let ports = [free_port(), free_port()];
    let logs = [dir.join("blog-1.log"), dir.join("blog-2.log")];
    let _one = blog_process(ports[0], &args("sync"), &logs[0]);
    let _two = blog_process(ports[1], &args("tokio"), &logs[1]);
    let one = SocketAddr::from(([127, 0, 0, 1], ports[0]));
    let two = SocketAddr::from(([127, 0, 0, 1], ports[1]));
    let (_nginx, site) = nginx_for_blogs(&nginx, ports, &dir);

    // The account through the first process ...
    let jar = dir.join("author.jar");
    curl(one, &jar, "/auth/create", &[]);
    let author = [
        ("email", "ann@example.com"),
        ("name", "Ann"),
        ("password", "pw"),
    ];
    assert_eq!(post(one, &jar, "/auth/create", &author).status, 302);
    // ... is there for the second, which logs in (a new browser).
    let jar = dir.join("login.jar");
    let a = curl(two, &jar, "/auth/login", &[]);
    assert_eq!(a.status, 200, "the second process sees the author");
    let login = [("email", "ann@example.com"), ("password", "pw")];
    assert_eq!(post(two, &jar, "/auth/login", &login).status, 302);
    // That login holds on the first process and through nginx.
    let a = post(
        one,
        &jar,
        "/compose",
        &[("title", "From one"), ("markdown", "1")],
    );
    assert_eq!((a.status, a.location.as_str()), (302, "/entry/from-one"));
    for title in ["Through nginx", "Through nginx"] {
        let a = post(
            site,
            &jar,
            "/compose",
            &[("title", title), ("markdown", "n")],
        );
        assert_eq!(a.status, 302, "{}", a.body);
    }

    // Every entry, through either process and through nginx.
    let reader = dir.join("reader.jar");
    for (addr, path) in [
        (one, "/"),
        (two, "/"),
        (site, "/?via=nginx"),
        (site, "/?via=nginx"),
    ] {
        let a = curl(addr, &reader, path, &[]);
        assert_eq!(a.status, 200);
        for slug in ["from-one", "through-nginx", "through-nginx-2"] {
            assert!(
                a.body.contains(&format!("/entry/{slug}\"")),
                "{slug} via {addr}"
            );
        }
    }
    // nginx spread its requests over both processes (round robin).
    for log in &logs {
        let log = std::fs::read_to_string(log).unwrap();
        assert!(log.contains("GET /?via=nginx"), "{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
