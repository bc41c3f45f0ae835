#!/bin/bash
# Instructions per echoed WebSocket message, server side, counted by callgrind (deterministic,
# unlike CPU time on a shared machine). Starts SERVER under callgrind twice: once driving 0
# messages, once N; one client sends DEPTH masked 32-byte text frames per write and reads the
# echoes. Prints (I_N - I_0) / N.
#
# usage: benches/ws_callgrind.sh N DEPTH PATH COMMAND...   ("{port}" in COMMAND is the port)
#   benches/ws_callgrind.sh 3200 1 /ws/echo target/release/examples/demo --port {port}
#   benches/ws_callgrind.sh 3200 1 / /tmp/peers-target/release/fastws_echo {port}
# needs: valgrind, python3
set -eu
n=$1; depth=$2; path=$3; shift 3
run() {  # run MESSAGES PORT -> total instructions
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" ${*:3} >/dev/null 2>&1 &
  local pid=$!
  python3 - "$2" "$1" "$depth" "$path" <<'PY'
import socket, sys, time
port, n, depth, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for _ in range(600):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          b"Sec-WebSocket-Version: 13\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
payload, key = b"a small message of 32 bytes, ok!", bytes([9, 8, 7, 6])
frame = bytes([0x81, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
batch, want = frame * depth, (2 + len(payload)) * depth
for _ in range(n // depth):
    s.sendall(batch)
    got = 0
    while got < want:
        got += len(s.recv(65536))
s.close()
PY
  sleep 0.5
  kill -TERM $pid; wait $pid 2>/dev/null || true
  awk '/^(summary|totals):/ {print $2; exit}' "$out"
  rm -f "$out"
}
cmd=("$@")
port=$((9400 + RANDOM % 500))
i0=$(run 0 $port "${cmd[@]//\{port\}/$port}")
port=$((port + 1))
i_n=$(run "$n" $port "${cmd[@]//\{port\}/$port}")
echo "instructions per message: $(( (i_n - i0) / n ))  (I_0 $i0, I_$n $i_n, $depth per write)"
