#!/bin/bash
# End-to-end load test with wrk: the http1 `hello` example and the web `demo`, each pinned to
# CPU 0 and loaded by one wrk thread pinned to CPU 1, with plain keep-alive (CONNS connections)
# and 16-deep pipelining (TechEmpower's plaintext shape). The approach and the columns are those
# of ../shared/peers/run.sh, so the figures can be set next to the peers' (run both in one
# sitting: only ratios of runs made side by side mean anything).
#
# The figure to compare is us_cpu/req: the server's CPU time (user+sys, all threads, from
# /proc/PID/stat) per request. It holds when wrk, not the server, is the bottleneck (one wrk
# thread on one core often is), and when the machine is noisy; req/s does not.
#
# usage: benches/load.sh [DURATION_S] [ROUNDS] [CONNS] [NAME=COMMAND ...]
#   NAME=COMMAND adds a server ("{port}" in COMMAND is replaced by its port, else the port is
#   appended), e.g. hyper=/tmp/peers-target/release/hyper_hello after ../shared/peers/run.sh.
#   SERVERS="http1_hello" limits the built-in ones.
# needs: wrk, curl, taskset (apt-get install -y wrk curl util-linux)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
D=${1:-5}; R=${2:-1}; C=${3:-64}; shift 3 2>/dev/null || shift $#
for tool in wrk curl taskset; do
  command -v "$tool" >/dev/null || { echo "load.sh: needs $tool (apt-get install -y wrk curl util-linux)"; exit 1; }
done
(cd "$root" && cargo build --release -q -p http1 --example hello && cargo build --release -q -p web --example demo) || exit 1
B=${CARGO_TARGET_DIR:-$root/target}/release/examples
lua=$(mktemp --suffix=.lua)
trap 'rm -f "$lua"' EXIT
cat >"$lua" <<'EOF'
-- 16 requests pipelined per write, as TechEmpower's plaintext test (and shared/peers) send them.
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/") end
  req = table.concat(r)
end
request = function() return req end
EOF
declare -a NAMES=(${SERVERS:-http1_hello web_demo})
declare -A CMD=([http1_hello]="$B/hello --port {port} --address 127.0.0.1" [web_demo]="$B/demo --port {port} --address 127.0.0.1")
for kv in "$@"; do n=${kv%%=*}; NAMES+=("$n"); CMD[$n]=${kv#*=}; done
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }  # utime+stime in clock ticks, all threads
tick=$(getconf CLK_TCK)
port=9300
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); wrk -t1 -c$C -d${D}s; server on CPU 0, wrk on CPU 1"
printf "%-6s %-12s %12s %10s %9s | %15s %10s\n" round server plain_req/s us_cpu/req p99 pipelined_req/s us_cpu/req
for r in $(seq 1 "$R"); do
  for n in "${NAMES[@]}"; do
    port=$((port + 1))
    c=${CMD[$n]}
    if [[ $c == *"{port}"* ]]; then c=${c//\{port\}/$port}; else c="$c $port"; fi
    taskset -c 0 $c >/dev/null 2>&1 &
    pid=$!
    up=0
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && { up=1; break; }; sleep 0.1; done
    if [[ $up == 0 ]]; then echo "round $r $n: did not answer on port $port"; kill "$pid" 2>/dev/null; continue; fi
    t0=$(cpu "$pid")
    a=$(taskset -c 1 wrk -t1 -c"$C" -d"${D}s" --latency "http://127.0.0.1:$port/" 2>&1)
    t1=$(cpu "$pid")
    b=$(taskset -c 1 wrk -t1 -c"$C" -d"${D}s" -s "$lua" "http://127.0.0.1:$port/" 2>&1)
    t2=$(cpu "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null
    na=$(echo "$a" | awk '/requests in/{print $1}'); nb=$(echo "$b" | awk '/requests in/{print $1}')
    rps=$(echo "$a" | awk '/Requests\/sec/{print $2}'); p99=$(echo "$a" | awk '/ 99%/{print $2}')
    prps=$(echo "$b" | awk '/Requests\/sec/{print $2}')
    usa=$(awk -v t="$((t1 - t0))" -v n="${na:-0}" -v k="$tick" 'BEGIN{if (n > 0) printf "%.3f", t * 1e6 / k / n; else print "-"}')
    usb=$(awk -v t="$((t2 - t1))" -v n="${nb:-0}" -v k="$tick" 'BEGIN{if (n > 0) printf "%.3f", t * 1e6 / k / n; else print "-"}')
    err=$(echo "$a$b" | grep -E "Non-2xx|Socket errors" | tr '\n' ' ')
    printf "%-6s %-12s %12s %10s %9s | %15s %10s %s\n" "$r" "$n" "$rps" "$usa" "$p99" "$prps" "$usb" "$err"
  done
done
