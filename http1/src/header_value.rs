//! `HeaderValue`: what a [`HeaderBlock`](crate::HeaderBlock) field may hold, as Tornado's
//! `set_header` takes `str`, `bytes`, integers and `datetime`: text and bytes, integers in
//! decimal, an HTTP date, formatted text, and an entity tag made from a hash ([`HexTag`]).
//!
//! Each kind appends its bytes straight into the block; text goes in as a copy, numbers as
//! digits, without the formatting machinery. Whatever is appended, the block checks it: a
//! value with CR, LF or another control character is refused, never sent. A type of your own
//! goes in through `format_args!("{value}")`, or by implementing the trait.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;
use std::time::SystemTime;

/// A header field value: appends its bytes to a header block, which checks them.
///
/// ```
/// use http1::header_value::{HeaderValue, HexTag};
/// let mut out = Vec::new();
/// "text/plain".write_value(&mut out);
/// 42u64.write_value(&mut out);
/// format_args!("; v={}", 1.5).write_value(&mut out);
/// HexTag(0xab).write_value(&mut out);
/// assert_eq!(out, b"text/plain42; v=1.5\"00000000000000ab\"");
/// let mut date = Vec::new();
/// std::time::UNIX_EPOCH.write_value(&mut date);
/// assert_eq!(date, b"Thu, 01 Jan 1970 00:00:00 GMT", "an HTTP date, as Tornado writes a datetime");
/// ```
pub trait HeaderValue {
    /// Appends the value to `out`.
    fn write_value(&self, out: &mut Vec<u8>);

    /// The value's bytes, for a value that has them already (text and bytes): they are then
    /// checked where they are and copied once checked (`None`: written, then checked).
    fn value_bytes(&self) -> Option<&[u8]> {
        None
    }

    /// Whether every value of this type is a valid field value by construction (digits, a
    /// quoted hex tag): then the block does not check it again.
    const ALWAYS_VALID: bool = false;
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
        self.as_str().write_value(out);
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl HeaderValue for Cow<'_, str> {
    fn write_value(&self, out: &mut Vec<u8>) {
        (**self).write_value(out);
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

/// Bytes: obs-text (0x80–0xFF) is allowed, as RFC 9110 §5.5 does; control characters are not.
impl HeaderValue for [u8] {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }

    fn value_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl<const N: usize> HeaderValue for [u8; N] {
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

    const ALWAYS_VALID: bool = T::ALWAYS_VALID;
}

/// Unsigned integers in decimal digits.
macro_rules! unsigned_values {
    ($($t:ty)*) => {$(
        impl HeaderValue for $t {
            fn write_value(&self, out: &mut Vec<u8>) {
                crate::response::push_decimal(out, *self as u64);
            }

            const ALWAYS_VALID: bool = true;
        }
    )*};
}

unsigned_values!(u8 u16 u32 u64 usize);

/// Other integers in decimal, through the formatting machinery.
macro_rules! integer_values {
    ($($t:ty)*) => {$(
        impl HeaderValue for $t {
            fn write_value(&self, out: &mut Vec<u8>) {
                let _ = write!(out, "{self}");
            }

            const ALWAYS_VALID: bool = true;
        }
    )*};
}

integer_values!(u128 i8 i16 i32 i64 i128 isize);

/// An entity tag made from a 64-bit hash: `"<16 lowercase hex digits>"`, quotes included.
///
/// ```
/// let mut h = http1::HeaderBlock::new();
/// h.push("Etag", http1::header_value::HexTag(0x0123_4567_89ab_cdef)).unwrap();
/// assert_eq!(h.as_bytes(), b"Etag: \"0123456789abcdef\"\r\n");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HexTag(pub u64);

impl HeaderValue for HexTag {
    fn write_value(&self, out: &mut Vec<u8>) {
        let mut tag = [b'"'; 18];
        tag[1..9].copy_from_slice(&crate::header_block::hex8((self.0 >> 32) as u32));
        tag[9..17].copy_from_slice(&crate::header_block::hex8(self.0 as u32));
        out.extend_from_slice(&tag);
    }

    const ALWAYS_VALID: bool = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(v: impl HeaderValue) -> Vec<u8> {
        let mut out = b"x".to_vec();
        v.write_value(&mut out);
        out
    }

    #[test]
    fn numbers_and_tags() {
        for n in [0u64, 9, 10, 99_999_999, 100_000_000, u64::MAX] {
            assert_eq!(written(n), format!("x{n}").as_bytes());
        }
        assert_eq!(written(-12i32), b"x-12");
        assert_eq!(written(7u8), b"x7");
        for tag in [0, 9, 10, 0x1234_abcd_9a9a_f0f0, u64::MAX] {
            assert_eq!(written(HexTag(tag)), format!("x\"{tag:016x}\"").as_bytes());
        }
        assert_eq!("ab".value_bytes(), Some(&b"ab"[..]));
        assert_eq!(HexTag(1).value_bytes(), None);
        const { assert!(HexTag::ALWAYS_VALID && u64::ALWAYS_VALID && <&i32>::ALWAYS_VALID) };
        const { assert!(!str::ALWAYS_VALID && !<fmt::Arguments<'_>>::ALWAYS_VALID) };
    }
}
