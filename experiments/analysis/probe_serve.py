#!/usr/bin/env python3
"""Probe a `pretext serve` worker on loopback: usage probe_serve.py <pretext binary>."""
import os, socket, subprocess, sys, time

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def handshake(path, extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n").encode()

def status(addr, req):
    s = socket.create_connection(addr); s.settimeout(10); s.sendall(req)
    try:
        line = s.recv(200).split(b"\r\n")[0].decode()
    except Exception as e:
        line = f"({e})"
    s.close(); return line

env = dict(os.environ, PRETEXT_TOKEN="s3cret")
w = subprocess.Popen([sys.argv[1], "serve", "--listen", "127.0.0.1:0"], env=env,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
line = w.stdout.readline()
host, port = line.split("ws://")[1].split()[0].split(":")
addr = (host, int(port))
time.sleep(0.5)
print("worker with a token:", line.strip())
print("/data without the token:", status(addr, handshake("/data")))
print("/session with Origin: https://example.com:", status(addr, handshake("/session", "Origin: https://example.com\r\n")))
before = rss_kib(w.pid)
s = socket.create_connection(addr); s.settimeout(10); s.sendall(handshake("/session"))
print("/session:", s.recv(12).decode())
n = 64 << 20
s.sendall(bytes([0x82, 0xff]) + n.to_bytes(8, "big") + b"\x01\x02\x03\x04")
sent = 0
try:
    chunk = b"\x07" * (1 << 20)
    for _ in range(64):
        s.sendall(chunk); sent += 1
except Exception as e:
    print("  write failed:", e)
time.sleep(1)
print(f"first frame of 64 MiB before the token: {sent} MiB accepted, worker RSS {before//1024} -> {rss_kib(w.pid)//1024} MiB")
s.close()
socks = []
for _ in range(200):
    c = socket.create_connection(addr); c.sendall(handshake("/data") if False else b""); socks.append(c)
time.sleep(1)
print(f"200 silent connections held: worker RSS {rss_kib(w.pid)//1024} MiB")
w.kill()
