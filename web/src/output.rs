//! The end of a request's run: writing the response (Tornado's `finish` and `flush` at the
//! end of `_execute`: the automatic Etag and 304, `Content-Length`, the compression
//! transform), the access log line, and what a panicking handler becomes (a 500).

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http1::HTTP1Connection;
use log::Level;

use crate::context::State;
use crate::error::status_has_no_body;
use crate::handler::DisplayIp;
use crate::request::{Method, Request};
use crate::response::Response;
use crate::settings::Settings;

/// A handler (`what`: "handler", "streaming handler") panicked: logs it, then answers 500 (its
/// message on the page with the `debug` setting), or aborts the response if the headers were
/// already sent.
pub(crate) fn panic_response(
    settings: &Settings,
    request: &Request,
    response: &mut Response,
    what: &str,
    payload: &(dyn Any + Send),
) {
    log::error!(
        target: "web::general",
        "Uncaught panic in {what}, {} {} ({}): {}",
        request.method(),
        request.uri(),
        DisplayIp(request.remote_ip()),
        panic_message(payload)
    );
    if response.headers_written {
        response.aborted = true;
    } else {
        response.clear();
        let _ = response.set_status(500, None);
        if settings.debug {
            let message = format!("panic: {}", panic_message(payload));
            crate::error_page::write_debug_page(response, 500, Some(&message));
        } else {
            crate::error_page::write_default_error_page(
                &mut response.body,
                500,
                "Internal Server Error",
            );
        }
    }
    response.finished = true;
}

/// Etag/304 and Content-Length, then the status line, headers and body to the connection.
pub(crate) async fn write_response(
    settings: &Settings,
    state: &mut State,
    conn: &mut HTTP1Connection<'_>,
) {
    let State {
        request, response, ..
    } = state;
    if response.aborted {
        conn.set_close_after();
        return;
    }
    let result = if response.headers_written {
        // Boxed: only handlers that flushed come here, and inline its waits would make room
        // in every connection's future (`tests/tests/idle.rs`).
        Box::pin(finish_flushed(response, conn)).await
    } else {
        // (`finalize` leaves no body for a status that has none.)
        finalize(settings, request, response);
        let (line, headers, body) = response.head();
        conn.write_response(line, headers, body).await
    };
    if let Err(e) = result {
        log::debug!(target: "web::general", "response not completed: {e}");
        conn.set_close_after();
    }
}

/// The end of a response whose headers went out with an earlier `flush`: the rest of the
/// body (through the last output transform), then the end of the message.
async fn finish_flushed(
    response: &mut Response,
    conn: &mut HTTP1Connection<'_>,
) -> Result<(), http1::HTTPOutputError> {
    crate::compress::transform_last(response);
    if !response.body.is_empty() {
        conn.write(&response.body).await?;
    }
    conn.finish().await
}

/// Tornado's `finish` bookkeeping before the headers go out: the automatic Etag and 304, no
/// body or representation headers on 1xx/204/304, Content-Length otherwise (unless set).
fn finalize(settings: &Settings, request: &Request, response: &mut Response) {
    // The header list knows whether the two this function may add are set.
    let has_etag = response.headers().has_etag();
    let mut has_length = response.headers().has_content_length();
    let get_or_head = matches!(request.supported_method(), Some(Method::Get | Method::Head));
    if settings.etag && !has_etag && response.status() == 200 && get_or_head {
        let hash = crate::etag::etag_hash(&response.body);
        response.headers_mut().push_etag(hash);
        // The tag's text is made only for a request that has one to compare.
        let matched = request
            .headers()
            .get_all("If-None-Match")
            .any(|v| crate::etag::etag_matches(v, crate::etag::Etag::from_hash(hash).as_str()));
        if matched {
            response.body.clear();
            let _ = response.set_status(304, None);
        }
    }
    if crate::compress::transform_final(settings, request, response) {
        has_length = false;
    }
    if status_has_no_body(response.status()) {
        if !response.body.is_empty() {
            log::warn!(target: "web::general", "body dropped: a {} response has none", response.status());
            response.body.clear();
        }
        let headers = response.headers_mut();
        for h in [
            "Content-Encoding",
            "Content-Language",
            "Content-Type",
            "Content-Length",
        ] {
            headers.remove(h);
        }
    } else if !has_length && request.supported_method() == Some(Method::Head) {
        // The length of the body a GET would get (http1 sends none for HEAD). For other
        // methods `HTTP1Connection::write_response` frames the whole body by its length.
        let len = response.body.len() as u64;
        response.headers_mut().push_content_length(len);
    }
}

/// The status the access log shows for a client that left before its response (nginx's
/// `499`, "client closed request"; Tornado logs the status the handler set, as if sent).
pub(crate) const CLIENT_CLOSED: u16 = 499;

/// Tornado's `log_request`: one line per request on target `web::access`; info below 400,
/// warning below 500, error from 500. Called only when the access log is on for the request
/// ([`Request::access_log_on`]).
pub(crate) fn log_request(request: &Request, response: &Response) {
    // A client that left before its response: nginx's 499 ("client closed request").
    let status = match response.connection_lost {
        true => CLIENT_CLOSED,
        false => response.status(),
    };
    let level = match status {
        0..=399 => Level::Info,
        400..=499 => Level::Warn,
        _ => Level::Error,
    };
    log::log!(
        target: "web::access",
        level,
        "{} {} {} ({}) {:.2}ms",
        status,
        request.method(),
        request.uri(),
        DisplayIp(request.remote_ip()),
        request.request_time().as_secs_f64() * 1000.0
    );
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}

/// Polls a future, turning a panic inside it into `Err(payload)`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
