//! Entry points for the fuzz targets in `fuzz/` (hidden from the docs; not a stable API).
//!
//! Most parsers the fuzzers drive are public already ([`crate::parse::parse_request_head`],
//! [`crate::chunked::ChunkedDecoder`]); this module reaches the client's response-head parser,
//! which is internal, and keeps its private types out of the public API.

use crate::client::ResponseHead;

/// The client's response-head parser (`client::connection::parse_response_head`) on `buf`,
/// which must end with the head's empty line: the head, the body framing as text (`None`,
/// `Length(n)`, `Chunked` or `Close`) and whether the connection may be kept alive, or the
/// error's message.
pub fn parse_response_head(buf: &[u8]) -> Result<(ResponseHead, String, bool), String> {
    crate::client::response_reader::parse_response_head(buf)
        .map(|(head, framing, keep_alive)| {
            let framing = match framing {
                crate::rules::Framing::UntilClose => "Close".to_owned(),
                other => format!("{other:?}"),
            };
            (head, framing, keep_alive)
        })
        .map_err(|e| e.to_string())
}
