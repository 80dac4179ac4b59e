//! The door in front of burn's remote server. burn 0.22.1's WebSocket server
//! reads up to 1 GiB a frame before it has checked a token, answers its
//! `/data` route (tensor transfers between workers) without one, accepts a
//! browser's handshake from any `Origin`, and holds every connection it is
//! given. `pretext serve` therefore puts burn on a loopback port of its own
//! and lets clients reach it only through this guard, which:
//! - caps the connections it holds at once (the rest get `503` and a close);
//! - reads at most [`HEAD_LIMIT`] of handshake, within [`DEADLINE`];
//! - refuses any handshake that carries an `Origin` header (browsers always
//!   send one; burn's clients never do), and any route but `/session` and
//!   `/data`;
//! - on `/session`, lets through one first frame (the session's `Init`,
//!   which holds the token) of at most [`FIRST_FRAME_LIMIT`], whole and
//!   unfragmented, and nothing more until burn has answered it: burn has
//!   decided on the token before it reads another byte;
//! - on `/data`, which burn serves without a token, admits only the hosts
//!   of the policy (the loopback when the worker has no token, else the
//!   `--peers` the operator named).
//!
//! What it cannot do without burn is in `docs/burn-remote-serve.md`.
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The most bytes of an HTTP upgrade request read before it is refused
/// (burn's clients send about 250).
pub const HEAD_LIMIT: usize = 8 * 1024;
/// The most bytes of a session's first frame, the one that carries the
/// token, read before the token is checked.
pub const FIRST_FRAME_LIMIT: u64 = 4 * 1024;
/// How long a client has to send its handshake and its first frame, and
/// burn to answer them.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Which hosts may open burn's `/data` route.
#[derive(Debug, Clone, PartialEq)]
pub enum DataPeers {
    /// Any loopback address (a worker without a token serves this machine
    /// alone).
    Loopback,
    /// These addresses only (a worker with a token: the other workers of
    /// the run, which fetch tensors from it directly).
    Only(Vec<IpAddr>),
}

impl DataPeers {
    fn admits(&self, ip: IpAddr) -> bool {
        match self {
            DataPeers::Loopback => ip.is_loopback(),
            DataPeers::Only(list) => list.iter().any(|p| same_host(*p, ip)),
        }
    }
}

/// An IPv4 peer may arrive as an IPv4-mapped IPv6 address.
fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// What the guard lets through.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Connections held at once, through the guard to burn.
    pub max_connections: usize,
    /// Who may use `/data`.
    pub data_peers: DataPeers,
}

/// Accepts clients on `public` and relays the admitted ones to burn's
/// server at `inner`, one thread per direction, until the process ends.
pub fn spawn(public: TcpListener, inner: SocketAddr, policy: Policy) -> io::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    let policy = Arc::new(policy);
    std::thread::Builder::new()
        .name("serve-guard".into())
        .spawn(move || {
            for client in public.incoming() {
                let Ok(client) = client else {
                    // Out of file descriptors, or an aborted handshake:
                    // pause instead of spinning on the same error.
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                let slot = Slot::take(&open, policy.max_connections);
                let policy = policy.clone();
                let spawned = std::thread::Builder::new()
                    .name("serve-conn".into())
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        let Some(slot) = slot else {
                            let _ = respond(&client, "503 Service Unavailable");
                            return;
                        };
                        if let Err(refusal) = admit(client, inner, &policy, slot) {
                            log_refusal(&refusal);
                        }
                    });
                if spawned.is_err() {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        })?;
    Ok(())
}

/// One of the connections the guard may hold; freed when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        let taken = open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        taken.then(|| Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a connection was closed before burn saw it.
#[derive(Debug)]
enum Refusal {
    /// The connection broke or timed out; not worth a warning.
    Io,
    Http {
        peer: SocketAddr,
        status: &'static str,
        why: String,
    },
    Frame {
        peer: SocketAddr,
        why: String,
    },
}

impl From<io::Error> for Refusal {
    fn from(_: io::Error) -> Self {
        Refusal::Io
    }
}

/// Refusals are warnings on stderr; broken connections are not worth one.
fn log_refusal(refusal: &Refusal) {
    match refusal {
        Refusal::Io => {}
        Refusal::Http { peer, status, why } => {
            eprintln!("warning: serve: refused {peer}: {status}: {why}");
        }
        Refusal::Frame { peer, why } => eprintln!("warning: serve: closed {peer}: {why}"),
    }
}

/// Writes a bodiless HTTP response and closes the connection.
fn respond(mut client: &TcpStream, status: &str) -> io::Result<()> {
    let _ = client.set_write_timeout(Some(DEADLINE));
    write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    client.shutdown(Shutdown::Both)
}

/// The route of an upgrade request the guard lets through.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    Session,
    Data,
}

/// Reads, checks and relays one connection.
fn admit(
    mut client: TcpStream,
    inner: SocketAddr,
    policy: &Policy,
    slot: Slot,
) -> Result<(), Refusal> {
    let peer = client.peer_addr()?;
    let started = Instant::now();
    keepalive(&client);
    let (head, mut rest) = read_head(&mut client, started)?.ok_or_else(|| {
        let _ = respond(&client, "431 Request Header Fields Too Large");
        Refusal::Http {
            peer,
            status: "431",
            why: format!("handshake over {HEAD_LIMIT} bytes"),
        }
    })?;
    let route = match check_head(&head) {
        Ok(route) => route,
        Err((status, why)) => {
            let _ = respond(&client, status);
            return Err(Refusal::Http { peer, status, why });
        }
    };
    if route == Route::Data && !policy.data_peers.admits(peer.ip()) {
        let _ = respond(&client, "403 Forbidden");
        return Err(Refusal::Http {
            peer,
            status: "403",
            why: "/data from a host that is not a peer of this worker (--peers)".into(),
        });
    }
    let mut server = TcpStream::connect(inner)?;
    server.set_nodelay(true)?;
    client.set_nodelay(true)?;
    server.write_all(&head)?;
    if route == Route::Session {
        // The server's 101 answer, then the client's Init frame, whole and
        // small, then the server's verdict on it: only then both ways.
        server.set_read_timeout(Some(DEADLINE))?;
        let (answer, early) =
            read_head(&mut server, Instant::now())?.ok_or_else(|| Refusal::Frame {
                peer,
                why: "burn's handshake answer was too long".into(),
            })?;
        client.write_all(&answer)?;
        client.write_all(&early)?;
        let frame = read_first_frame(&mut client, &mut rest, started).map_err(|e| match e {
            FrameError::Io => Refusal::Io,
            FrameError::Refused(why) => Refusal::Frame { peer, why },
        })?;
        server.write_all(&frame)?;
        let mut verdict = [0u8; 16 * 1024];
        let n = server.read(&mut verdict)?;
        client.write_all(&verdict[..n])?;
        server.set_read_timeout(None)?;
    }
    client.set_read_timeout(None)?;
    server.write_all(&rest)?;
    relay(client, server, slot)
}

/// Probe an idle client the way burn probes its own: a vanished peer is
/// noticed in about 30 s instead of holding its slot for good.
fn keepalive(stream: &TcpStream) {
    let probe = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(10))
        .with_interval(Duration::from_secs(5))
        .with_retries(4);
    let _ = socket2::SockRef::from(stream).set_tcp_keepalive(&probe);
}

/// Reads an HTTP head (up to the blank line) of at most [`HEAD_LIMIT`]
/// bytes before `started + DEADLINE`: the head and what came after it, or
/// `None` when it is too long.
fn read_head(stream: &mut TcpStream, started: Instant) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let left = DEADLINE.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf[from..], b"\r\n\r\n") {
            let end = from + end + 4;
            if end > HEAD_LIMIT {
                return Ok(None);
            }
            let rest = buf.split_off(end);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > HEAD_LIMIT {
            return Ok(None);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Checks an upgrade request: a GET of `/session` or `/data`, without an
/// `Origin` header.
fn check_head(head: &[u8]) -> Result<Route, (&'static str, String)> {
    let text = std::str::from_utf8(head)
        .map_err(|_| ("400 Bad Request", "handshake is not text".to_string()))?;
    let mut lines = text.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split(' ');
    let (method, target) = (parts.next(), parts.next());
    if method != Some("GET") {
        return Err(("400 Bad Request", "not a WebSocket handshake".into()));
    }
    for line in lines {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("origin") {
            return Err((
                "403 Forbidden",
                "a browser's handshake (Origin header): web pages may not drive a worker".into(),
            ));
        }
    }
    let path = target
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default();
    match path.trim_end_matches('/') {
        "/session" => Ok(Route::Session),
        "/data" => Ok(Route::Data),
        _ => Err(("404 Not Found", format!("no route {path:?}"))),
    }
}

/// Why a session's first frame was not let through.
#[derive(Debug)]
enum FrameError {
    Io,
    Refused(String),
}

impl From<io::Error> for FrameError {
    fn from(_: io::Error) -> Self {
        FrameError::Io
    }
}

/// The length of a WebSocket frame's header and of its payload, read from
/// its first bytes; `None` until enough of the header has arrived.
fn frame_size(bytes: &[u8]) -> Result<Option<(usize, u64)>, String> {
    let [b0, b1, ..] = *bytes else {
        return Ok(None);
    };
    let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
    if !fin || opcode != 0x2 {
        return Err(format!(
            "the first frame must be one whole binary message (fin {fin}, opcode {opcode})"
        ));
    }
    if b1 & 0x80 == 0 {
        return Err("the first frame is not masked, as a client's must be".into());
    }
    let (len_bytes, short) = match b1 & 0x7f {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    let header = 2 + len_bytes + 4;
    if bytes.len() < 2 + len_bytes {
        return Ok(None);
    }
    let len = short.unwrap_or_else(|| {
        bytes[2..2 + len_bytes]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    });
    Ok(Some((header, len)))
}

/// Reads the first frame of a session whole, from `rest` (bytes already
/// read) and then the client, refusing one over [`FIRST_FRAME_LIMIT`]
/// before reading its payload. What follows it stays in `rest`.
fn read_first_frame(
    client: &mut TcpStream,
    rest: &mut Vec<u8>,
    started: Instant,
) -> Result<Vec<u8>, FrameError> {
    let mut chunk = [0u8; 1024];
    let mut total = None;
    loop {
        if total.is_none()
            && let Some((header, len)) = frame_size(rest).map_err(FrameError::Refused)?
        {
            if len > FIRST_FRAME_LIMIT {
                return Err(FrameError::Refused(format!(
                    "a first frame of {len} bytes, before the token was checked (the most is {FIRST_FRAME_LIMIT})"
                )));
            }
            total = Some(header + len as usize);
        }
        if let Some(total) = total
            && rest.len() >= total
        {
            let after = rest.split_off(total);
            return Ok(std::mem::replace(rest, after));
        }
        let left = DEADLINE.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(FrameError::Refused(format!(
                "no first frame within {} s",
                DEADLINE.as_secs()
            )));
        }
        client.set_read_timeout(Some(left))?;
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        rest.extend_from_slice(&chunk[..n]);
    }
}

/// Copies both ways until either side closes; the slot is held till then.
fn relay(client: TcpStream, server: TcpStream, slot: Slot) -> Result<(), Refusal> {
    let (mut client_r, mut server_w) = (client.try_clone()?, server.try_clone()?);
    let upstream = std::thread::Builder::new()
        .name("serve-up".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            let _ = io::copy(&mut client_r, &mut server_w);
            let _ = server_w.shutdown(Shutdown::Write);
        })?;
    let (mut server_r, mut client_w) = (server, client);
    let _ = io::copy(&mut server_r, &mut client_w);
    let _ = client_w.shutdown(Shutdown::Both);
    let _ = server_r.shutdown(Shutdown::Both);
    let _ = upstream.join();
    drop(slot);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_checked_for_route_and_origin() {
        let get = |path: &str, extra: &str| {
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n{extra}\r\n")
        };
        assert_eq!(
            check_head(get("/session", "").as_bytes()),
            Ok(Route::Session)
        );
        assert_eq!(check_head(get("/data", "").as_bytes()), Ok(Route::Data));
        assert_eq!(
            check_head(get("/other", "").as_bytes()).unwrap_err().0,
            "404 Not Found"
        );
        let browser = get("/session", "origin: https://example.com\r\n");
        assert_eq!(
            check_head(browser.as_bytes()).unwrap_err().0,
            "403 Forbidden"
        );
        let post = "POST /session HTTP/1.1\r\n\r\n";
        assert_eq!(
            check_head(post.as_bytes()).unwrap_err().0,
            "400 Bad Request"
        );
    }

    #[test]
    fn frame_sizes_are_read_from_the_header() {
        // A masked binary frame of 5, 300 and 2^40 bytes.
        assert_eq!(frame_size(&[0x82, 0x85]), Ok(Some((6, 5))));
        assert_eq!(frame_size(&[0x82, 0xfe]), Ok(None));
        assert_eq!(frame_size(&[0x82, 0xfe, 0x01, 0x2c]), Ok(Some((8, 300))));
        let big = [0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0];
        assert_eq!(frame_size(&big), Ok(Some((14, 1 << 40))));
        // A fragment, a text frame and an unmasked frame are refused.
        assert!(frame_size(&[0x02, 0x85]).is_err());
        assert!(frame_size(&[0x81, 0x85]).is_err());
        assert!(frame_size(&[0x82, 0x05]).is_err());
    }

    #[test]
    fn data_peers_match_mapped_addresses() {
        let v4: IpAddr = "10.0.0.2".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert!(DataPeers::Only(vec![v4]).admits(mapped));
        assert!(!DataPeers::Only(vec![v4]).admits("10.0.0.3".parse().unwrap()));
        assert!(!DataPeers::Only(vec![]).admits("127.0.0.1".parse().unwrap()));
        assert!(DataPeers::Loopback.admits("127.0.0.1".parse().unwrap()));
        assert!(!DataPeers::Loopback.admits(v4));
    }
}
