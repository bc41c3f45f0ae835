//! `HeaderValue`: what [`Context::set_header`](crate::Context::set_header) and
//! [`Context::add_header`](crate::Context::add_header) accept, as Tornado's `set_header` takes
//! `str`, `bytes`, integers and `datetime`.
//!
//! Each kind appends its text straight into the response's header block; text goes in as a
//! copy, without the formatting machinery (a `Display` bound would send even a `&str` through
//! `core::fmt`). Whatever is written, the field is checked afterwards: a value with CR, LF or
//! another control character is refused, never sent. A type of your own goes in through
//! `format_args!("{value}")` or `value.to_string()`.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;
use std::time::SystemTime;

/// A header value: appends its text (or bytes) to a header block.
///
/// ```
/// use web::header_value::HeaderValue;
/// let mut out = Vec::new();
/// "text/plain".write_value(&mut out);
/// 42u64.write_value(&mut out);
/// format_args!("; v={}", 1.5).write_value(&mut out);
/// assert_eq!(out, b"text/plain42; v=1.5");
/// let mut date = Vec::new();
/// std::time::UNIX_EPOCH.write_value(&mut date);
/// assert_eq!(date, b"Thu, 01 Jan 1970 00:00:00 GMT", "an HTTP date, as Tornado writes a datetime");
/// ```
pub trait HeaderValue {
    /// Appends the value to `out` (checked by the caller afterwards).
    fn write_value(&self, out: &mut Vec<u8>);

    /// The value's bytes, for a value that has them already (text and bytes): then they are
    /// checked where they are and copied once checked (`None`: written, then checked).
    fn value_bytes(&self) -> Option<&[u8]> {
        None
    }
}

impl HeaderValue for str {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl HeaderValue for String {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl HeaderValue for Cow<'_, str> {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

/// Bytes (Tornado accepts `bytes` values): obs-text (0x80–0xFF) is allowed, control
/// characters are not.
impl HeaderValue for [u8] {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl HeaderValue for Vec<u8> {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

/// Formatted text: `format_args!("max-age={n}, public")`.
impl HeaderValue for fmt::Arguments<'_> {
    fn write_value(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail.
        let _ = out.write_fmt(*self);
    }
}

/// An HTTP date (IMF-fixdate), as Tornado formats a `datetime` value.
impl HeaderValue for SystemTime {
    fn write_value(&self, out: &mut Vec<u8>) {
        let _ = write!(out, "{}", httpdate::HttpDate::from(*self));
    }
}

impl<T: HeaderValue + ?Sized> HeaderValue for &T {
    fn write_value(&self, out: &mut Vec<u8>) {
        (**self).write_value(out);
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        (**self).value_bytes()
    }
}

/// Integers in decimal.
macro_rules! integer_values {
    ($($t:ty)*) => {$(
        impl HeaderValue for $t {
            fn write_value(&self, out: &mut Vec<u8>) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

integer_values!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

/// Text written through `fmt::Write` into a header block's bytes (for values built piece by
/// piece, such as a `Set-Cookie` line).
pub(crate) struct TextSink<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for TextSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
