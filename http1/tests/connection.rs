//! The connection loop over real loopback sockets: keep-alive, pipelining, 100-continue,
//! response framing, streaming bodies with bounded memory, timeouts, back-pressure.

mod common;
use common::*;
use http1::HTTP1ConnectionParameters;
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

#[test]
fn keep_alive_by_version_and_connection_header() {
    let srv = start(HTTP1ConnectionParameters {
        server_header: Some("http1-test".into()),
        ..Default::default()
    });
    let mut s = connect(srv.port);
    for i in 0..3 {
        s.write_all(format!("GET /k{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
            .unwrap();
        let (rs, eof) = read_responses(&mut s, 1, false);
        assert!(!eof);
        assert!(rs[0].text().starts_with(&format!("GET /k{i} ")));
        assert_eq!(rs[0].header("Server"), Some("http1-test"));
        assert!(httpdate::parse_http_date(rs[0].header("Date").unwrap()).is_ok());
        assert_eq!(rs[0].header("Connection"), None);
    }
    s.write_all(b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n")
        .unwrap();
    let (rs, eof) = read_to_close(&mut s);
    assert!(eof && rs.len() == 1);
    assert_eq!(rs[0].header("Connection"), Some("close"));

    // HTTP/1.0: close unless keep-alive is asked for.
    let rs = exchange(srv.port, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(rs.len(), 1);
    let mut s = connect(srv.port);
    s.write_all(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let (rs, eof) = read_responses(&mut s, 1, false);
    assert!(!eof);
    assert_eq!(rs[0].header("Connection"), Some("keep-alive"));
    s.write_all(b"GET /b HTTP/1.0\r\n\r\n").unwrap();
    let (rs, eof) = read_to_close(&mut s);
    assert!(eof && rs.len() == 1);

    // no_keep_alive
    let srv = start(HTTP1ConnectionParameters {
        no_keep_alive: true,
        ..Default::default()
    });
    let rs = exchange(
        srv.port,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].header("Connection"), Some("close"));
}

#[test]
fn hundred_pipelined_requests_in_one_write() {
    let srv = start(HTTP1ConnectionParameters::default());
    let mut raw = String::new();
    for i in 0..100 {
        let path = if i % 10 == 3 { "/slow" } else { "/p" };
        raw.push_str(&format!("GET {path}?i={i} HTTP/1.1\r\nHost: a\r\n\r\n"));
    }
    raw.push_str(
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfinal",
    );
    let rs = exchange(srv.port, raw.as_bytes());
    assert_eq!(rs.len(), 101);
    for (i, r) in rs[..100].iter().enumerate() {
        assert!(
            r.text().contains(&format!(" q=i={i} ")),
            "response {i} out of order: {}",
            r.text()
        );
    }
    assert_eq!(rs[100].text(), "final");
}

#[test]
fn expect_100_continue_only_when_the_body_is_read() {
    let srv = start(HTTP1ConnectionParameters::default());
    let mut s = connect(srv.port);
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    )
    .unwrap();
    let (rs, _) = read_responses(&mut s, 1, false);
    assert_eq!(rs[0].status, 100);
    s.write_all(b"body").unwrap();
    let (rs, _) = read_responses(&mut s, 1, false);
    assert_eq!((rs[0].status, rs[0].text()), (200, "body"));
    // Answered from the head: no 100, the body is never read, the connection closes.
    s.write_all(
        b"POST /early HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    )
    .unwrap();
    let (rs, eof) = read_to_close(&mut s);
    assert!(eof);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, 401);
    assert_eq!(rs[0].text(), "denied");
}

#[test]
fn response_framing() {
    let srv = start(HTTP1ConnectionParameters::default());
    let mut s = connect(srv.port);
    // chunked on 1.1
    s.write_all(b"GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let (rs, _) = read_responses(&mut s, 1, false);
    assert_eq!(rs[0].header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(rs[0].text(), "one,two,three");
    // large pieces, chunked and with a length
    s.write_all(b"GET /large HTTP/1.1\r\nHost: a\r\n\r\nGET /big?n=500000&p=200000 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let (rs, _) = read_responses(&mut s, 2, false);
    let mut want = b"start:".to_vec();
    for c in [b'a', b'b', b'c'] {
        want.extend(std::iter::repeat_n(c, 100_000));
    }
    want.extend_from_slice(b":end");
    assert!(rs[0].body == want, "large chunked body differs");
    assert_eq!(rs[1].body, vec![b'x'; 500_000]);
    // HEAD: the declared length, no body
    s.write_all(b"HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let (rs, _) = read_responses(&mut s, 1, true);
    assert_eq!(rs[0].header("Content-Length"), Some("0"));
    s.write_all(b"HEAD /chunked HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let (rs, _) = read_responses(&mut s, 1, true);
    assert_eq!(rs[0].header("Transfer-Encoding"), None);
    // 204: no body, and the connection goes on
    s.write_all(
        b"GET /nocontent HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    .unwrap();
    let (rs, _) = read_responses(&mut s, 2, false);
    assert_eq!(rs[0].status, 204);
    assert!(rs[1].text().starts_with("GET /after "));
    // close-delimited on 1.0
    let rs = exchange(srv.port, b"GET /chunked HTTP/1.0\r\n\r\n");
    assert_eq!(rs[0].text(), "one,two,three");
    assert_eq!(rs[0].header("Connection"), Some("close"));
    // fewer bytes than declared: the connection is closed, never a corrupt stream
    let text = raw_exchange(
        srv.port,
        b"GET /wrong-length HTTP/1.1\r\nHost: a\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert!(text.ends_with("\r\n\r\nshort"), "{text}");
    // more bytes than declared: refused before anything is written (here the delegate
    // then gives up, so the client gets a 500 and the close)
    let rs = exchange(
        srv.port,
        b"GET /too-much HTTP/1.1\r\nHost: a\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, 500);
    // a delegate that writes nothing gets a 500
    let rs = exchange(srv.port, b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(rs[0].status, 500);
}

#[test]
fn a_whole_response_is_length_framed() {
    let srv = start(HTTP1ConnectionParameters::default());
    let mut s = connect(srv.port);
    s.write_all(b"GET /whole HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let (rs, _) = read_responses(&mut s, 2, false);
    assert_eq!(rs[0].text(), "all of it");
    assert_eq!(rs[0].header("Content-Length"), Some("9"));
    assert_eq!(rs[0].header("Transfer-Encoding"), None);
    assert!(
        rs[1].text().starts_with("GET /after "),
        "the connection goes on"
    );
    s.write_all(b"HEAD /whole HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let (rs, _) = read_responses(&mut s, 1, true);
    assert_eq!(
        rs[0].header("Content-Length"),
        None,
        "HEAD: no body, no length made up"
    );
    assert!(rs[0].body.is_empty());
    // HTTP/1.0: length-framed, so keep-alive is possible and the close is not needed
    let mut s = connect(srv.port);
    s.write_all(
        b"GET /whole HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /after HTTP/1.0\r\n\r\n",
    )
    .unwrap();
    let (rs, _) = read_responses(&mut s, 2, false);
    assert_eq!(rs[0].text(), "all of it");
    assert_eq!(rs[0].header("Connection"), Some("keep-alive"));
    // fewer bytes than a declared length: what was written goes out, then the close
    let text = raw_exchange(
        srv.port,
        b"GET /whole-declared HTTP/1.1\r\nHost: a\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert!(text.ends_with("\r\n\r\nshort"), "{text}");
}

#[test]
fn chunked_upload_of_16_mib_is_streamed_with_bounded_memory() {
    let srv = start(HTTP1ConnectionParameters::default());
    let mut s = connect(srv.port);
    let total = 16 << 20;
    let writer = {
        let mut s = s.try_clone().unwrap();
        std::thread::spawn(move || {
            s.write_all(b"POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap();
            let piece = vec![b'u'; 100_000];
            let mut sent = 0;
            while sent < total {
                let n = piece.len().min(total - sent);
                s.write_all(format!("{n:x}\r\n").as_bytes()).unwrap();
                s.write_all(&piece[..n]).unwrap();
                s.write_all(b"\r\n").unwrap();
                sent += n;
            }
            s.write_all(b"0\r\n\r\n").unwrap();
        })
    };
    let (rs, _) = read_responses(&mut s, 1, false);
    writer.join().unwrap();
    assert!(rs[0].text().ends_with(&format!(
        "len={total} chunks={}",
        rs[0].text().rsplit('=').next().unwrap()
    )));
    assert!(rs[0].text().contains(&format!("len={total} ")));
    assert_eq!(srv.stats.body_bytes.load(Relaxed), total);
    let cap = srv.stats.max_buffer_capacity.load(Relaxed);
    assert!(cap <= 512 * 1024, "stream buffers grew to {cap} bytes");
    assert!(srv.stats.max_chunk.load(Relaxed) <= 64 * 1024);
}

#[test]
fn gzip_request_bodies_are_decompressed_and_bounded() {
    use flate2::{write::GzEncoder, Compression};
    let srv = start(HTTP1ConnectionParameters {
        decompress: true,
        max_body_size: 1 << 20,
        ..Default::default()
    });
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(&b"hello gzip ".repeat(1000)).unwrap();
    let gz = enc.finish().unwrap();
    let mut raw = format!(
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    raw.extend_from_slice(&gz);
    raw.extend_from_slice(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let rs = exchange(srv.port, &raw);
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0].body, b"hello gzip ".repeat(1000));
    // a gzip bomb: 64 MiB of zeros in a few KiB
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&vec![0u8; 64 << 20]).unwrap();
    let bomb = enc.finish().unwrap();
    let mut raw = format!(
        "POST /count HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    )
    .into_bytes();
    raw.extend_from_slice(&bomb);
    let rs = exchange(srv.port, &raw);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, 413);
    assert!(srv.stats.body_bytes.load(Relaxed) <= (1 << 20) + 11000 + 65536);
}

#[test]
fn xheaders() {
    let srv = start(HTTP1ConnectionParameters {
        xheaders: true,
        trusted_downstream: vec!["10.0.0.1".parse().unwrap()],
        ..Default::default()
    });
    let rs = exchange(
        srv.port,
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6, 1.2.3.4, 10.0.0.1\r\nX-Forwarded-Proto: https\r\n\r\n\
          GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: bogus\r\nX-Scheme: ftp\r\nConnection: close\r\n\r\n",
    );
    assert!(
        rs[0].text().contains(" ip=1.2.3.4 proto=https "),
        "{}",
        rs[0].text()
    );
    assert!(
        rs[1].text().contains(" ip=127.0.0.1 proto=http "),
        "{}",
        rs[1].text()
    );
    // off: the peer address
    let srv = start(HTTP1ConnectionParameters::default());
    let rs = exchange(
        srv.port,
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: 1.1.1.1\r\nConnection: close\r\n\r\n",
    );
    assert!(rs[0].text().contains(" ip=127.0.0.1 "), "{}", rs[0].text());
}

fn short_timeouts() -> HTTP1ConnectionParameters {
    HTTP1ConnectionParameters {
        header_timeout: Some(Duration::from_millis(300)),
        idle_connection_timeout: Some(Duration::from_millis(300)),
        body_timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    }
}

#[test]
fn header_timeout_from_accept() {
    let srv = start(short_timeouts());
    let t = Instant::now();
    let mut s = connect(srv.port);
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap(); // never finished
    assert!(closed_within(&mut s, Duration::from_secs(3)));
    let e = t.elapsed();
    assert!(
        e >= Duration::from_millis(250) && e < Duration::from_secs(2),
        "{e:?}"
    );
    // A slow drip does not extend it.
    let t = Instant::now();
    let mut s = connect(srv.port);
    for b in b"GET / HTTP/1.1\r\nHost: a\r\nX: 123456789".iter() {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(closed_within(&mut s, Duration::from_secs(3)));
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn idle_timeout_between_requests() {
    let srv = start(short_timeouts());
    let mut s = connect(srv.port);
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let (rs, _) = read_responses(&mut s, 1, false);
    assert_eq!(rs[0].status, 200);
    let t = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(3)));
    let e = t.elapsed();
    // One timer lives across requests: the close comes after one to two periods.
    assert!(
        e >= Duration::from_millis(250) && e < Duration::from_millis(1500),
        "{e:?}"
    );
    // A connection that keeps sending requests (each within the period) stays open well past
    // several periods.
    let mut s = connect(srv.port);
    for _ in 0..12 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        let (rs, eof) = read_responses(&mut s, 1, false);
        assert!(!eof && rs[0].status == 200);
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn body_timeout_is_for_the_entire_body() {
    let srv = start(short_timeouts());
    let mut s = connect(srv.port);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n")
        .unwrap();
    // One byte every 50 ms for 2 s: every gap is far under the 300 ms timeout, the whole
    // body is not, so the connection is cut while the trickle goes on.
    let t = Instant::now();
    let mut cut_after = None;
    for _ in 0..40 {
        if s.write_all(b"x").is_err() || closed_within(&mut s, Duration::from_millis(50)) {
            cut_after = Some(t.elapsed());
            break;
        }
    }
    let cut_after = cut_after.expect("the trickle was never cut");
    assert!(cut_after < Duration::from_millis(1200), "{cut_after:?}");
}

#[test]
fn body_timeout() {
    let srv = start(short_timeouts());
    let mut s = connect(srv.port);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf")
        .unwrap();
    let t = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(3)));
    assert!(t.elapsed() < Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        srv.stats.connection_closes.load(Relaxed),
        1,
        "the delegate was told"
    );
}

#[test]
fn a_client_that_never_reads_cannot_grow_server_memory() {
    let srv = start(HTTP1ConnectionParameters::default());
    let s = connect(srv.port);
    // Each request asks for 256 KiB; the client sends many and reads nothing.
    let request = b"GET /big?n=262144 HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut w = s.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        for _ in 0..20_000 {
            if w.write_all(request).is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let sent = writer.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = srv.stats.started.load(Relaxed);
    let pending = srv.stats.max_pending_write.load(Relaxed);
    let cap = srv.stats.max_buffer_capacity.load(Relaxed);
    eprintln!("client sent {sent} requests; server started {started}; max pending {pending}; max buffers {cap}");
    assert!(
        started < 100,
        "the server kept reading: {started} requests started"
    );
    assert!(
        pending <= 64 * 1024 + 16 * 1024 + 1024,
        "pending output grew to {pending}"
    );
    assert!(cap <= 512 * 1024, "buffers grew to {cap}");
    drop(s);
}

#[test]
fn small_pipelined_responses_to_a_client_that_never_reads_stay_bounded() {
    let srv = start(HTTP1ConnectionParameters::default());
    let s = connect(srv.port);
    let mut w = s.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let batch = b"GET /p HTTP/1.1\r\nHost: a\r\n\r\n".repeat(1000);
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        for _ in 0..200 {
            if w.write_all(&batch).is_err() {
                break;
            }
            sent += 1000;
        }
        sent
    });
    let sent = writer.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = srv.stats.started.load(Relaxed);
    let pending = srv.stats.max_pending_write.load(Relaxed);
    eprintln!("client sent {sent} requests; server started {started}; max pending {pending}");
    assert!(started < 200_000, "the server read everything: {started}");
    assert!(
        pending <= 64 * 1024 + 1024,
        "pending output grew to {pending}"
    );
}
