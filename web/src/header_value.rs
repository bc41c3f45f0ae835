//! `HeaderValue`: what [`Context::set_header`](crate::Context::set_header) and
//! [`Context::add_header`](crate::Context::add_header) accept, as Tornado's `set_header` takes
//! `str`, `bytes`, integers and `datetime`. It is http1's [`http1::HeaderValue`]: the values a
//! response header block takes, checked as they are pushed (a value with CR, LF or another
//! control character is refused, never sent). A type of your own goes in through
//! `format_args!("{value}")`, or by implementing the trait.
//!
//! ```
//! use web::header_value::HeaderValue;
//! let mut out = Vec::new();
//! "text/plain".write_value(&mut out);
//! 42u64.write_value(&mut out);
//! format_args!("; v={}", 1.5).write_value(&mut out);
//! assert_eq!(out, b"text/plain42; v=1.5");
//! let mut date = Vec::new();
//! std::time::UNIX_EPOCH.write_value(&mut date);
//! assert_eq!(date, b"Thu, 01 Jan 1970 00:00:00 GMT", "an HTTP date, as Tornado writes a datetime");
//! ```

pub use http1::header_value::{HeaderValue, HexTag};
