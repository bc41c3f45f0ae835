#!/bin/bash
# Where a WebSocket echo server's CPU goes per message: user and system time, system calls and
# TCP segments per echoed message, under ws_run.sh's load (64 connections, DEPTH 32-byte
# messages per write, the server on CPU 0, the load on CPU 1). It shows how much of the CPU per
# message a server can still act on: the kernel's share (the same syscalls and segments for
# every server) is a floor no user-space change goes below.
#
# usage: benches/ws_kernel_share.sh SECONDS DEPTH PATH COMMAND...   ("{port}" is the port)
#   benches/ws_kernel_share.sh 4 1 /ws/echo target/release/examples/demo --port {port}
#   benches/ws_kernel_share.sh 4 1 / /tmp/peers-target/release/fastws_echo {port}
# needs: ../shared/peers built (ws_run.sh builds them into /tmp/peers-target), strace, nstat
set -eu
secs=$1; depth=$2; path=$3; shift 3
load=${PEERS_TARGET:-/tmp/peers-target}/release/ws_load
port=$((9400 + RANDOM % 500))
cmd=("${@//\{port\}/$port}")
taskset -c 0 "${cmd[@]}" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
sleep 0.2

# Pass 1, no tracer: CPU time (clock ticks of /proc/PID/stat) and TCP segments (both
# directions: 2.00 per message is one segment each way, the ACKs riding on the data).
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
nstat -n
messages=$(taskset -c 1 "$load" "ws://127.0.0.1:$port$path" "$secs" 64 "$depth" 32 | awk '/^messages/{print $2}')
segments=$(nstat -z TcpOutSegs | awk '/TcpOutSegs/{print $2}')
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
awk -v m="$messages" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v t="$(getconf CLK_TCK)" -v g="$segments" 'BEGIN {
  printf "messages %d\nuser_us_per_msg %.3f\nsys_us_per_msg %.3f\nkernel_share %.1f%%\nsegments_per_msg %.2f\n",
    m, u * 1e6 / t / m, s * 1e6 / t / m, 100 * s / (u + s), g / m }'

# Pass 2, under strace -c (slower, but the counts are what matter): syscalls per message.
strace -c -f -p "$pid" -o /tmp/ws_kernel_share.strace 2>/dev/null &
tracer=$!
sleep 0.5
messages=$(taskset -c 1 "$load" "ws://127.0.0.1:$port$path" 2 64 "$depth" 32 | awk '/^messages/{print $2}')
kill -INT $tracer; wait $tracer 2>/dev/null || true
# strace -c's columns: % time, seconds, usecs/call, calls, [errors,] syscall.
awk -v m="$messages" '$NF ~ /^(read|recvfrom|sendto|write|writev|epoll_wait)$/ {
  printf "%s_per_msg %.3f\n", $NF, $4 / m }' /tmp/ws_kernel_share.strace
