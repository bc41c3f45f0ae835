//! The blog's command line: `--port N --db URL --db-pool N --db-driver sync|tokio
//! --cookie-secret S --debug` (Tornado's
//! demo has `--port` and `--db_host`, `--db_port`, ... for its one store; here `--db` names
//! the store with a URL).

/// A fresh cookie secret (Tornado's demo leaves a placeholder to replace): 32 random bytes
/// in hex. Logins then last as long as the process, unless `--cookie-secret` is given.
pub fn random_secret() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

use super::db::Driver;

/// The command line: `--port N --db URL --db-pool N --db-driver D --cookie-secret S --debug`.
pub struct Options {
    /// `--port`: where to listen (all interfaces), 8888 as Tornado's demo.
    pub port: u16,
    /// `--db`: `sqlite:PATH` (default `sqlite:blog.db`) or `postgres://user:pass@host:port/db`.
    pub db: String,
    /// `--db-pool`: at most this many PostgreSQL connections (default 4).
    pub db_pool: usize,
    /// `--db-driver`: `sync` (the `postgres` crate on helper threads) or `tokio`
    /// (tokio-postgres on the loop through the tokio bridge); [`Driver::DEFAULT`] if not given.
    pub db_driver: Driver,
    /// `--cookie-secret`: the key of the signed cookies (default: a random one per run).
    pub cookie_secret: Option<String>,
    /// `--debug`: Tornado's `debug` (error pages show the cause; templates reload on change).
    pub debug: bool,
}

/// The options in `args` (without the program's name); the message says what is wrong.
pub fn parse(args: impl IntoIterator<Item = String>) -> std::result::Result<Options, String> {
    let mut options = Options {
        port: 8888,
        db: "sqlite:blog.db".to_owned(),
        db_pool: 4,
        db_driver: Driver::DEFAULT,
        cookie_secret: None,
        debug: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => options.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--db" => options.db = value()?,
            "--db-pool" => {
                options.db_pool = value()?.parse().map_err(|e| format!("--db-pool: {e}"))?
            }
            "--db-driver" => options.db_driver = value()?.parse()?,
            "--cookie-secret" => options.cookie_secret = Some(value()?),
            "--debug" => options.debug = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use super::Driver;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_flags_and_mistakes() {
        let o = parse(args("")).unwrap();
        assert_eq!(
            (o.port, o.db.as_str(), o.db_pool),
            (8888, "sqlite:blog.db", 4)
        );
        assert!(o.cookie_secret.is_none() && !o.debug);
        assert_eq!(o.db_driver, Driver::DEFAULT);
        let o = parse(args(
            "--port 1 --db postgres://u:p@h:5/d --db-pool 9 --cookie-secret s --debug",
        ))
        .unwrap();
        assert_eq!(
            (o.port, o.db.as_str(), o.db_pool),
            (1, "postgres://u:p@h:5/d", 9)
        );
        assert_eq!(o.cookie_secret.as_deref(), Some("s"));
        assert_eq!(
            parse(args("--db-driver sync")).unwrap().db_driver,
            Driver::Sync
        );
        assert_eq!(
            parse(args("--db-driver tokio")).unwrap().db_driver,
            Driver::Tokio
        );
        assert_eq!(
            parse(args("--db-driver diesel")).err().unwrap(),
            "--db-driver diesel: expected sync or tokio"
        );
        assert!(o.debug);
        assert_eq!(
            parse(args("--port x")).err().unwrap(),
            "--port: invalid digit found in string"
        );
        assert_eq!(parse(args("--db")).err().unwrap(), "--db needs a value");
        assert_eq!(
            parse(args("--dbpool 2")).err().unwrap(),
            "unknown option --dbpool"
        );
        assert_eq!(super::random_secret().unwrap().len(), 64);
    }
}
