//! The `Date` response header, formatted once a second per thread and copied from a cache for
//! every response (`httpdate` does the IMF-fixdate formatting, without allocating).
//!
//! A server thread runs a small task ([`start_ticker`], started by the first connection) that
//! reformats the date at each second boundary, so a response reads no clock at all (nginx
//! keeps its time the same way). Without the ticker (outside a server), [`now`] reads the
//! clock and reformats only when the second changed.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const DATE_LEN: usize = 29;

/// Length of the header line `Date: <IMF-fixdate>\r\n`.
const LINE_LEN: usize = DATE_LEN + 8;

/// Where the date starts in the header line.
const DATE_AT: usize = 6;

thread_local! {
    /// The unix second `LINE` was formatted for.
    static SECS: Cell<u64> = const { Cell::new(u64::MAX) };
    /// The whole header line, kept ready to copy: a response copies it straight from here.
    static LINE: RefCell<[u8; LINE_LEN]> =
        const { RefCell::new(*b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n") };
    /// Whether a ticker task keeps `LINE` current on this thread.
    static TICKING: Cell<bool> = const { Cell::new(false) };
}

/// The current date as an IMF-fixdate, e.g. `b"Sun, 06 Nov 1994 08:49:37 GMT"`.
///
/// ```
/// let d = http1::date::now();
/// assert!(d.ends_with(b" GMT"));
/// ```
pub fn now() -> [u8; DATE_LEN] {
    let mut date = [0; DATE_LEN];
    with_header_line(|line| date.copy_from_slice(&line[DATE_AT..DATE_AT + DATE_LEN]));
    date
}

/// `Date: <now>\r\n`, ready to copy into a response head in one piece.
///
/// ```
/// let line = http1::date::header_line();
/// assert!(line.starts_with(b"Date: ") && line.ends_with(b" GMT\r\n"));
/// ```
pub fn header_line() -> [u8; LINE_LEN] {
    with_header_line(|line| *line)
}

/// Appends `Date: <now>\r\n` to `out`, copied from the thread's cached line.
///
/// ```
/// let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
/// http1::date::push_header_line(&mut head);
/// assert!(head.ends_with(b" GMT\r\n"));
/// ```
pub fn push_header_line(out: &mut Vec<u8>) {
    with_header_line(|line| out.extend_from_slice(line));
}

/// Runs `f` on the cached header line, current to the second (reformatted first when no
/// ticker keeps it so and the second changed).
fn with_header_line<R>(f: impl FnOnce(&[u8; LINE_LEN]) -> R) -> R {
    if !TICKING.with(Cell::get) {
        refresh();
    }
    LINE.with_borrow(f)
}

/// Reads the clock; reformats the cached line if the second changed.
fn refresh() {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if SECS.with(Cell::get) != secs {
        let formatted = format(secs);
        LINE.with_borrow_mut(|line| line[DATE_AT..DATE_AT + DATE_LEN].copy_from_slice(&formatted));
        SECS.with(|s| s.set(secs));
    }
}

/// Starts, once per thread, a task on the current reactor that refreshes the cached date just
/// after each second boundary (one allocation, the task; none per tick).
pub fn start_ticker() {
    if TICKING.with(Cell::get) {
        return;
    }
    TICKING.with(|t| t.set(true));
    refresh();
    reactor::spawn(async {
        /// Turns the cache back to clock reads when the task goes (its reactor dropped).
        struct Stop;
        impl Drop for Stop {
            fn drop(&mut self) {
                let _ = TICKING.try_with(|t| t.set(false));
            }
        }
        let _stop = Stop;
        loop {
            let into_second = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let to_next = Duration::from_nanos(1_000_000_000 - u64::from(into_second));
            reactor::sleep(to_next + Duration::from_millis(1)).await;
            refresh();
        }
    });
}

/// Formats a unix time (whole seconds) as an IMF-fixdate.
pub fn format(unix_secs: u64) -> [u8; DATE_LEN] {
    let time = UNIX_EPOCH + Duration::from_secs(unix_secs);
    let mut out = FixedBuf {
        buf: [b' '; DATE_LEN],
        len: 0,
    };
    // httpdate's Display writes exactly DATE_LEN ASCII bytes for years 1970..=9999.
    let _ = write!(out, "{}", httpdate::HttpDate::from(time));
    out.buf
}

struct FixedBuf {
    buf: [u8; DATE_LEN],
    len: usize,
}

impl std::fmt::Write for FixedBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > DATE_LEN {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_line_wraps_now() {
        let line = header_line();
        assert!(line.starts_with(b"Date: ") && line.ends_with(b" GMT\r\n"));
    }

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(&format(784111777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&format(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn ticker_keeps_the_cache_current() {
        let r = reactor::Reactor::new().unwrap();
        r.block_on(async {
            start_ticker();
            assert!(TICKING.with(Cell::get));
            let first = now();
            reactor::sleep(Duration::from_millis(1100)).await;
            assert_ne!(now(), first, "refreshed after a second");
            let ticked = now();
            refresh();
            assert_eq!(now(), ticked, "the ticker had it current");
        });
        drop(r);
        assert!(!TICKING.with(Cell::get), "stopped with its reactor");
    }

    #[test]
    fn now_is_cached_per_second() {
        let a = now();
        let b = now();
        let secs = SECS.with(Cell::get);
        let expect = format(secs);
        assert!(a == expect || b == expect);
        let mut out = b"x".to_vec();
        push_header_line(&mut out);
        assert_eq!(&out[1..], &header_line()[..]);
        assert!(httpdate::parse_http_date(std::str::from_utf8(&b).unwrap()).is_ok());
    }
}
