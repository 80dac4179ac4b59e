//! `pretext serve` on loopback, probed as a stranger would: what reaches
//! burn's server, and what the worker's guard turns away first.
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::scale_out::Worker;
use super::{fails_with_one_line, pretext};

/// A WebSocket upgrade request for `path`, with `extra` header lines.
fn handshake(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

fn connect(worker: &Worker) -> TcpStream {
    let stream = TcpStream::connect(worker.url.trim_start_matches("ws://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// The status line the worker answers `request` with.
fn status_of(worker: &Worker, request: &str) -> String {
    let mut stream = connect(worker);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8];
    while !answer.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => answer.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer).trim().to_string()
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Before the guard, burn's `/data` answered any client, a browser's
/// handshake from a foreign page was accepted, and a session's first frame
/// of up to 1 GiB was read whole before the token was checked.
#[test]
fn a_worker_with_a_token_refuses_tokenless_data_browsers_and_big_first_frames() {
    let mut worker = Worker::with(Some("s3cret"), &[]);
    let data = status_of(&worker, &handshake("/data", ""));
    assert!(data.starts_with("HTTP/1.1 403"), "{data}");
    let browser = handshake("/session", "Origin: https://example.com\r\n");
    let status = status_of(&worker, &browser);
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    let padded = handshake("/session", &format!("X-Pad: {}\r\n", "a".repeat(10_000)));
    let status = status_of(&worker, &padded);
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    let status = status_of(&worker, &handshake("/other", ""));
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");

    // A session whose first frame claims 64 MiB: closed after its header,
    // and the worker does not grow by the frame.
    let pid = worker.child.id();
    let before = rss_kib(pid);
    let mut stream = connect(&worker);
    stream
        .write_all(handshake("/session", "").as_bytes())
        .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 101");
    let mib = 1u64 << 20;
    let mut header = vec![0x82, 0xff];
    header.extend_from_slice(&(64 * mib).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    stream.write_all(&header).unwrap();
    let chunk = vec![7u8; mib as usize];
    let mut sent = 0;
    for _ in 0..64 {
        match stream.write_all(&chunk) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert!(
                    matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                    "{e}"
                );
                break;
            }
        }
    }
    assert!(
        sent < 64,
        "the worker read all 64 MiB of an unchecked frame"
    );
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(grown < 16 * 1024, "the worker grew by {grown} KiB");
    assert!(
        worker.child.try_wait().unwrap().is_none(),
        "the worker died"
    );
}

#[test]
fn a_worker_without_a_token_serves_this_machine_alone_and_caps_its_connections() {
    // Two silent connections hold both slots (for up to 10 s); a third is
    // turned away at once.
    let capped = Worker::with(None, &["--max-connections", "2"]);
    let (_a, _b) = (connect(&capped), connect(&capped));
    std::thread::sleep(Duration::from_millis(200));
    let status = status_of(&capped, &handshake("/session", ""));
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");

    let worker = Worker::with(None, &[]);
    // burn's clients send no Origin; a web page's always does.
    let browser = handshake("/session", "Origin: http://localhost:8000\r\n");
    let status = status_of(&worker, &browser);
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    // This machine may fetch tensors: the handshake reaches burn.
    let data = status_of(&worker, &handshake("/data", ""));
    assert!(data.starts_with("HTTP/1.1 101"), "{data}");

    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pretext"))
        .args(["serve", "--listen", "127.0.0.1:0", "--peers", "10.0.0.2"])
        .env_remove("PRETEXT_TOKEN")
        .output()
        .unwrap();
    fails_with_one_line(&out, &["--peers", "PRETEXT_TOKEN"]);
    let out = pretext(
        &["serve", "--listen", "127.0.0.1:0", "--max-connections", "0"],
        tmp.path(),
    );
    fails_with_one_line(&out, &["--max-connections 0"]);
}
