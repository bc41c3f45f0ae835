//! [`StreamError`]: why a read or a write on an [`IOStream`](crate::IOStream) did not complete
//! (Tornado's `StreamClosedError`, `UnsatisfiableReadError` and `StreamBufferFullError`).

use std::fmt;
use std::io;

/// Why a stream operation failed.
#[derive(Debug)]
pub enum StreamError {
    /// The stream is closed: the peer closed or reset it, a syscall failed, or we closed it.
    ///
    /// `source` is the real OS error (e.g. `ECONNRESET`, `EPIPE`) when there was one, and
    /// `None` for a clean end of file or a local [`close`](crate::IOStream::close).
    Closed {
        /// The OS error that closed the stream, if any.
        source: Option<io::Error>,
    },
    /// The delimiter (or regex) was not found within `max_bytes`; the stream has been closed.
    Unsatisfiable {
        /// The limit that was passed to the read.
        max_bytes: usize,
    },
    /// The write buffer would exceed `max_write_buffer_size`, or the read buffer exceeded
    /// `max_buffer_size` (then the stream has been closed). Nothing was silently dropped.
    BufferFull,
    /// A read was started while another read on the same stream was still outstanding.
    ReadPending,
    /// Any other I/O error (e.g. a refused or timed-out connect).
    Io(io::Error),
}

/// `Result` with [`StreamError`].
pub type Result<T> = std::result::Result<T, StreamError>;

impl StreamError {
    /// Whether this is [`StreamError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, StreamError::Closed { .. })
    }

    /// The OS error behind this error, if there is one.
    pub fn os_error(&self) -> Option<&io::Error> {
        match self {
            StreamError::Closed { source } => source.as_ref(),
            StreamError::Io(e) => Some(e),
            _ => None,
        }
    }

    /// A `Closed` error carrying a copy of `source`.
    pub(crate) fn closed(source: Option<&io::Error>) -> StreamError {
        StreamError::Closed {
            source: source.map(copy_io_error),
        }
    }
}

/// A copy of an `io::Error` (which is not `Clone`): the same raw OS error, or the same kind
/// and message.
pub(crate) fn copy_io_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Closed { source: Some(e) } => write!(f, "stream closed: {e}"),
            StreamError::Closed { source: None } => f.write_str("stream closed"),
            StreamError::Unsatisfiable { max_bytes } => {
                write!(f, "delimiter not found within max_bytes ({max_bytes})")
            }
            StreamError::BufferFull => f.write_str("reached maximum buffer size"),
            StreamError::ReadPending => f.write_str("a read is already pending on this stream"),
            StreamError::Io(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Closed { source: Some(e) } | StreamError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> StreamError {
        StreamError::Io(e)
    }
}

impl From<StreamError> for io::Error {
    fn from(e: StreamError) -> io::Error {
        match e {
            StreamError::Io(e) => e,
            StreamError::Closed { source: Some(e) } => e,
            StreamError::Closed { source: None } => {
                io::Error::new(io::ErrorKind::NotConnected, "stream closed")
            }
            other => io::Error::other(other.to_string()),
        }
    }
}
