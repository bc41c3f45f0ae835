//! A throwaway PostgreSQL server for tests: a fresh cluster made by `initdb` in a temporary
//! directory, started by `pg_ctl` on a free loopback port, stopped and removed on drop. No
//! mocks: the tests that need a database talk to a real one.
//!
//! The binaries are looked up on `PATH`, then in Debian's `/usr/lib/postgresql/<version>/bin`
//! (the `postgresql` package does not put them on `PATH`). PostgreSQL refuses to run as root, so
//! when the tests run as root (as CI does) the cluster belongs to the `postgres` user and every
//! command runs through `runuser -u postgres`. Authentication is `trust` on loopback only.
//!
//! [`Postgres::start`] returns `None` after printing `skipped: PostgreSQL missing (...)` when no
//! server can be started, so a test that needs one says so rather than passing silently.
//!
//! ```no_run
//! let Some(pg) = testkit::postgres::Postgres::start() else { return }; // "skipped: ..." printed
//! let url = pg.url(); // postgres://postgres@127.0.0.1:PORT/postgres
//! assert!(pg.psql("SELECT 1").unwrap().contains('1'));
//! pg.stop(); // the server goes away (a fault test), keeping its data ...
//! pg.restart(); // ... and comes back on the same port
//! # let _ = url;
//! ```

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running throwaway cluster (stopped and its directory removed on drop).
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Makes a cluster and starts it, or prints why not and returns `None`.
    pub fn start() -> Option<Postgres> {
        match Postgres::try_start() {
            Ok(pg) => Some(pg),
            Err(why) => {
                println!("skipped: PostgreSQL missing ({why})");
                None
            }
        }
    }

    fn try_start() -> Result<Postgres, String> {
        let bin = find_bin_dir().ok_or("no initdb on PATH or in /usr/lib/postgresql/*/bin")?;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "testkit-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let as_postgres = is_root();
        let pg = Postgres {
            bin,
            dir,
            port: free_port().map_err(|e| format!("no free port: {e}"))?,
            as_postgres,
        };
        if as_postgres {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !owned.success() {
                return Err("chown to the postgres user failed".into());
            }
        }
        let data = pg.data_dir();
        let init = pg.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        if !init.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&init.stderr)));
        }
        pg.restart_checked()?;
        Ok(pg)
    }

    /// A connection URL for the `postgres` database as the `postgres` superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs one SQL string through `psql` and returns what it printed (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = self
            .psql_command()
            .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// A `psql` command connected to this cluster (unaligned, tuples only, no `.psqlrc`), to
    /// add arguments to or to hold a session open on (its stdin, say: a transaction that
    /// keeps a lock while a test watches the server).
    pub fn psql_command(&self) -> Command {
        // The server's own client, else Debian's wrapper on PATH (where the server's bin is not).
        let server_psql = self.bin.join("psql");
        let program = match server_psql.exists() {
            true => server_psql.as_path(),
            false => Path::new("psql"),
        };
        let mut command = Command::new(program);
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-X", "-A", "-t"]);
        command
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`), as a crash would; the data stays.
    pub fn stop(&self) {
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir()),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts the server again on the same port, waiting until it accepts connections.
    ///
    /// # Panics
    /// If it does not start (the tests that call this are testing recovery).
    pub fn restart(&self) {
        if let Err(why) = self.restart_checked() {
            panic!("PostgreSQL did not restart: {why}");
        }
    }

    fn restart_checked(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            path_str(&self.dir)
        );
        let log = self.dir.join("server.log");
        let started = self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir()),
                "-o",
                &options,
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "30",
                "start",
            ],
        )?;
        if started.status.success() {
            Ok(())
        } else {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            Err(format!(
                "pg_ctl start: {}{}",
                String::from_utf8_lossy(&started.stderr),
                tail
            ))
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs one of the server's programs, as the `postgres` user when the tests run as root.
    fn run(&self, program: &str, args: &[&str]) -> Result<Output, String> {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("{}: {e}", program.display()))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn find_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"));
    on_path
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

#[cfg(test)]
mod tests {
    use super::Postgres;

    #[test]
    fn starts_answers_stops_and_restarts() {
        let Some(pg) = Postgres::start() else { return };
        assert_eq!(pg.psql("SELECT 40 + 2").unwrap().trim(), "42");
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (7)")
            .unwrap();
        pg.stop();
        assert!(pg.psql("SELECT 1").is_err(), "stopped server still answers");
        pg.restart();
        assert_eq!(pg.psql("SELECT x FROM t").unwrap().trim(), "7");
        let dir = pg.dir.clone();
        drop(pg);
        assert!(!dir.exists());
    }
}
