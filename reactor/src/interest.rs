//! What a handler asks to hear about ([`Interest`]) and what the poller tells it ([`Ready`]).

use std::fmt;
use std::ops::BitOr;

/// The readiness a handler wants to be called for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Nothing: the fd stays registered but reports no readiness.
    pub const NONE: Interest = Interest(0);
    /// Data can be read, or the peer closed (Tornado's `IOLoop.READ`).
    pub const READABLE: Interest = Interest(1);
    /// Data can be written (Tornado's `IOLoop.WRITE`).
    pub const WRITABLE: Interest = Interest(2);
    /// Both directions.
    pub const BOTH: Interest = Interest(3);

    /// Whether read readiness is wanted.
    pub fn is_readable(self) -> bool {
        self.0 & 1 != 0
    }

    /// Whether write readiness is wanted.
    pub fn is_writable(self) -> bool {
        self.0 & 2 != 0
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (false, false) => f.write_str("NONE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (true, true) => f.write_str("READABLE | WRITABLE"),
        }
    }
}

/// The readiness of an fd as reported by one poll (Tornado's `events` argument).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// The fd can be read without blocking.
    pub const READABLE: Ready = Ready(1);
    /// The fd can be written without blocking.
    pub const WRITABLE: Ready = Ready(2);
    /// An error is pending on the fd (`EPOLLERR`, `EV_ERROR`).
    pub const ERROR: Ready = Ready(4);
    /// The peer hung up or shut down its writing side (`EPOLLHUP`/`EPOLLRDHUP`, `EV_EOF`).
    pub const HANGUP: Ready = Ready(8);

    /// Whether a read would not block.
    pub fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }

    /// Whether a write would not block.
    pub fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }

    /// Whether an error is pending.
    pub fn is_error(self) -> bool {
        self.0 & Self::ERROR.0 != 0
    }

    /// Whether the peer hung up.
    pub fn is_hangup(self) -> bool {
        self.0 & Self::HANGUP.0 != 0
    }

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::READABLE, "READABLE"),
            (Self::WRITABLE, "WRITABLE"),
            (Self::ERROR, "ERROR"),
            (Self::HANGUP, "HANGUP"),
        ];
        let mut first = true;
        for (flag, name) in names {
            if self.0 & flag.0 != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}
