#!/bin/bash
# Scaling with `--workers N`: server CPU time per request, 1 worker against N, side by side.
#
# Like ../shared/peers/run.sh (same wrk loads: plain keep-alive and 16-deep pipelining, the
# same figure: user+sys CPU over all threads of the server process, per request), but the CPU
# pinning is a parameter, because run.sh puts the server on CPU 0 alone, where two workers
# would only take turns on one core.
#
# usage: benches/workers.sh [DURATION_S] [ROUNDS] [CONNS] [WORKERS...]      (default: 1 2)
# sleeps/req: voluntary context switches of the server per request under the plain load (its
# loops blocking in epoll_wait for lack of work; more of them = smaller batches per wake-up).
#   env SERVER_CPUS (default: all CPUs), WRK_CPUS (default: all CPUs), WRK_THREADS (default 2),
#       DEMO (default: target/release/examples/demo; build it with
#       `cargo build --release -p web --example demo`), PIPELINE (default: the peers' script).
#
# On a 2-core machine server and wrk share both cores: the req/s figure is then bounded by
# wrk, but CPU per request still compares the servers. On a bigger box give the server its own
# cores and wrk the rest, e.g. on 16 cores:
#   SERVER_CPUS=0-7 WRK_CPUS=8-15 WRK_THREADS=8 benches/workers.sh 10 3 512 1 2 4 8
# and look for req/s growing with N while us_cpu/req stays flat (see docs/deploying.md).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
D=${1:-5}; R=${2:-2}; C=${3:-64}; shift 3 2>/dev/null || shift $#
WORKERS=("$@"); [[ ${#WORKERS[@]} == 0 ]] && WORKERS=(1 2)
all="0-$(($(nproc) - 1))"
SERVER_CPUS=${SERVER_CPUS:-$all}; WRK_CPUS=${WRK_CPUS:-$all}; WRK_THREADS=${WRK_THREADS:-2}
DEMO=${DEMO:-$here/target/release/examples/demo}
PIPELINE=${PIPELINE:-$here/../shared/peers/pipeline.lua}
[[ -x $DEMO ]] || { echo "no $DEMO: cargo build --release -p web --example demo"; exit 1; }
[[ -f $PIPELINE ]] || { echo "no $PIPELINE (wrk script sending 16 pipelined GET /)"; exit 1; }
# CPU time (user+sys) in clock ticks: all threads, and per thread
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
# voluntary context switches (the loops going to sleep in epoll_wait), all threads
ctx() { local s=0 v; for t in /proc/$1/task/*; do v=$(awk '/^voluntary_ctxt/{print $2}' $t/status); s=$((s + v)); done; echo $s; }
threads() { for t in /proc/$1/task/*; do printf "%s=%s " "$(cat $t/comm)" "$(awk '{print $14+$15}' $t/stat)"; done; }
tick=$(getconf CLK_TCK)
port=9400
echo "server on CPUs $SERVER_CPUS, wrk -t$WRK_THREADS -c$C on CPUs $WRK_CPUS, ${D}s per load"
printf "%-6s %-8s %12s %10s %9s %9s | %14s %10s | %s\n" round workers plain_req/s us_cpu/req p99 sleeps/req pipelined_req/s us_cpu/req "cpu ticks per thread"
for r in $(seq 1 "$R"); do
  for n in "${WORKERS[@]}"; do
    port=$((port + 1))
    taskset -c "$SERVER_CPUS" "$DEMO" --port "$port" --address 127.0.0.1 --workers "$n" >/dev/null 2>&1 &
    pid=$!
    up=0
    for i in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && { up=1; break; }; sleep 0.1; done
    if [[ $up == 0 ]]; then echo "round $r workers=$n: did not answer on port $port"; kill "$pid" 2>/dev/null; continue; fi
    t0=$(cpu "$pid"); c0=$(ctx "$pid")
    a=$(taskset -c "$WRK_CPUS" wrk -t"$WRK_THREADS" -c"$C" -d"${D}s" --latency "http://127.0.0.1:$port/" 2>&1)
    t1=$(cpu "$pid"); c1=$(ctx "$pid")
    b=$(taskset -c "$WRK_CPUS" wrk -t"$WRK_THREADS" -c"$C" -d"${D}s" -s "$PIPELINE" "http://127.0.0.1:$port/" 2>&1)
    t2=$(cpu "$pid")
    per=$(threads "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null
    na=$(echo "$a" | awk '/requests in/{print $1}'); nb=$(echo "$b" | awk '/requests in/{print $1}')
    rps=$(echo "$a" | awk '/Requests\/sec/{print $2}'); p99=$(echo "$a" | awk '/ 99%/{print $2}')
    prps=$(echo "$b" | awk '/Requests\/sec/{print $2}')
    usa=$(awk -v t="$((t1 - t0))" -v n="${na:-0}" -v k="$tick" 'BEGIN{if (n > 0) printf "%.3f", t * 1e6 / k / n; else print "-"}')
    usb=$(awk -v t="$((t2 - t1))" -v n="${nb:-0}" -v k="$tick" 'BEGIN{if (n > 0) printf "%.3f", t * 1e6 / k / n; else print "-"}')
    sw=$(awk -v c="$((c1 - c0))" -v n="${na:-0}" 'BEGIN{if (n > 0) printf "%.3f", c / n; else print "-"}')
    err=$(echo "$a$b" | grep -E "Non-2xx|Socket errors" | tr '\n' ' ')
    printf "%-6s %-8s %12s %10s %9s %9s | %14s %10s | %s%s\n" "$r" "$n" "$rps" "$usa" "$p99" "$sw" "$prps" "$usb" "$per" "$err"
  done
done
