//! Throwaway certificates for TLS tests, made by the `openssl` CLI in a fresh temporary
//! directory (removed on drop): two CAs, server certificates for `localhost`/127.0.0.1 and
//! `second.test`, one for `localhost` signed by the second CA (for reload tests), and a client
//! certificate (mutual TLS). The same set as `iostream`'s own TLS tests.
//!
//! ```no_run
//! let Some(certs) = testkit::certs::make() else { return }; // "skipped: ..." printed
//! let (cert, key) = certs.localhost();
//! assert!(cert.exists() && key.exists() && certs.ca().exists());
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The files of one set of test certificates (the directory is removed on drop).
pub struct Certs {
    /// The directory holding the files.
    pub dir: PathBuf,
}

impl Certs {
    /// A file of the set by name.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    /// The first CA (signs `localhost`, `second` and `client`).
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }
    /// The second CA (signs `localhost2`).
    pub fn ca2(&self) -> PathBuf {
        self.path("ca2.pem")
    }
    /// Certificate and key for `localhost` and 127.0.0.1, signed by [`ca`](Self::ca).
    pub fn localhost(&self) -> (PathBuf, PathBuf) {
        (self.path("localhost.pem"), self.path("localhost.key"))
    }
    /// Certificate and key for `second.test`, signed by [`ca`](Self::ca).
    pub fn second(&self) -> (PathBuf, PathBuf) {
        (self.path("second.pem"), self.path("second.key"))
    }
    /// Certificate and key for `localhost` and 127.0.0.1, signed by [`ca2`](Self::ca2).
    pub fn localhost_ca2(&self) -> (PathBuf, PathBuf) {
        (self.path("localhost2.pem"), self.path("localhost2.key"))
    }
    /// A client certificate (`client.test`, clientAuth), signed by [`ca`](Self::ca).
    pub fn client(&self) -> (PathBuf, PathBuf) {
        (self.path("client.pem"), self.path("client.key"))
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map(|o| {
            if !o.status.success() {
                eprintln!("openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
            }
            o.status.success()
        })
        .unwrap_or(false)
}

/// Whether a program can be run (`prog -version`/`--version` or similar exits at all).
pub fn have(prog: &str, arg: &str) -> bool {
    Command::new(prog).arg(arg).output().is_ok()
}

/// Makes the certificates, or `None` (with a message) when `openssl` is missing.
pub fn make() -> Option<Certs> {
    if !have("openssl", "version") {
        eprintln!("skipped: the openssl CLI is not installed (needed to make test certificates)");
        return None;
    }
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "testkit-tls-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = Certs { dir: dir.clone() };
    for ca in ["ca", "ca2"] {
        assert!(openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
                "-days",
                "2",
                "-subj",
                &format!("/CN=testkit test {ca}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ));
    }
    let leaves = [
        (
            "localhost",
            "ca",
            "DNS:localhost,IP:127.0.0.1",
            "serverAuth",
        ),
        ("second", "ca", "DNS:second.test", "serverAuth"),
        (
            "localhost2",
            "ca2",
            "DNS:localhost,IP:127.0.0.1",
            "serverAuth",
        ),
        ("client", "ca", "DNS:client.test", "clientAuth"),
    ];
    for (name, ca, san, usage) in leaves {
        let ext = format!(
            "subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
        );
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        assert!(openssl(
            &dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        ));
        assert!(openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.pem"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &format!("{name}.pem"),
                "-extfile",
                &format!("{name}.ext"),
            ],
        ));
    }
    Some(certs)
}
