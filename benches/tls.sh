#!/bin/bash
# TLS side by side with nginx (OpenSSL): the web demo over HTTPS and ../shared/peers/nginx_hello.sh,
# each pinned to CPU 0 and loaded by one wrk thread pinned to CPU 1, with a throwaway P-256
# certificate made here by openssl.
#
#   1. keep-alive and 16-deep pipelining over TLS 1.3: SCHEME=https ../shared/peers/run.sh
#      (us_cpu/req columns);
#   2. handshakes: a new connection per request (wrk -H 'Connection: close'), session
#      resumption on (our stateless tickets; nginx's shared session cache and tickets) and off
#      (demo --no-tls-resumption; nginx ssl_session_cache off + ssl_session_tickets off). The
#      figure is handshakes per server CPU-second (requests / server CPU time).
#
# usage: benches/tls.sh [DURATION_S] [ROUNDS] [CONNS]
# needs: wrk, curl, taskset, openssl, nginx (apt-get install -y wrk curl util-linux openssl nginx)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
peers=${PEERS_DIR:-$root/../shared/peers}
[ -d "$peers" ] || peers=/work/shared/peers
D=${1:-3}; R=${2:-1}; C=${3:-64}
for tool in wrk curl taskset openssl nginx; do
  command -v "$tool" >/dev/null || { echo "tls.sh: needs $tool"; exit 1; }
done
(cd "$root" && cargo build --release -q -p web --example demo) || exit 1
demo=${CARGO_TARGET_DIR:-$root/target}/release/examples/demo
d=$(mktemp -d /tmp/tls-bench.XXXX)
trap 'rm -rf "$d"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null

echo "== keep-alive and pipelined over TLS (us_cpu/req: server CPU per request)"
SCHEME=https PEERS="" "$peers/run.sh" "$D" "$R" "$C" \
  nginx="$peers/nginx_hello.sh {port} $d/cert.pem $d/key.pem" \
  ours="$demo --port {port} --certfile $d/cert.pem --keyfile $d/key.pem"

# nginx without resumption: nginx_hello.sh's config with the session cache and tickets off.
sed -e 's/ssl_session_cache shared:S:1m/ssl_session_cache off; ssl_session_tickets off/' \
  "$peers/nginx_hello.sh" >"$d/nginx_noresume.sh"
chmod +x "$d/nginx_noresume.sh"

cpu() { awk '{print $14+$15}' /proc/$1/stat; }
tick=$(getconf CLK_TCK)
port=9300
echo "== handshakes: a new TLS connection per request"
printf "%-6s %-16s %12s %16s\n" round server conn_req/s handshakes/cpu_s
for r in $(seq 1 "$R"); do
  for n in ours_resume ours_full nginx_resume nginx_full; do
    port=$((port + 1))
    case $n in
      ours_resume) c="$demo --port $port --certfile $d/cert.pem --keyfile $d/key.pem" ;;
      ours_full) c="$demo --port $port --certfile $d/cert.pem --keyfile $d/key.pem --no-tls-resumption" ;;
      nginx_resume) c="$peers/nginx_hello.sh $port $d/cert.pem $d/key.pem" ;;
      nginx_full) c="$d/nginx_noresume.sh $port $d/cert.pem $d/key.pem" ;;
    esac
    taskset -c 0 $c >/dev/null 2>&1 &
    pid=$!
    up=0
    for i in $(seq 1 100); do curl -sk -o /dev/null "https://127.0.0.1:$port/" && { up=1; break; }; sleep 0.1; done
    if [[ $up == 0 ]]; then echo "round $r $n: did not answer on port $port"; kill "$pid" 2>/dev/null; continue; fi
    t0=$(cpu "$pid")
    a=$(taskset -c 1 wrk -t1 -c16 -d"${D}s" -H 'Connection: close' "https://127.0.0.1:$port/" 2>&1)
    t1=$(cpu "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null
    na=$(echo "$a" | awk '/requests in/{print $1}')
    rps=$(echo "$a" | awk '/Requests\/sec/{print $2}')
    hps=$(awk -v t="$((t1 - t0))" -v n="${na:-0}" -v k="$tick" 'BEGIN{if (t > 0) printf "%.0f", n * k / t; else print "-"}')
    err=$(echo "$a" | grep -E "Non-2xx|Socket errors" | tr '\n' ' ')
    printf "%-6s %-16s %12s %16s %s\n" "$r" "$n" "$rps" "$hps" "$err"
  done
done
