#!/bin/bash
# The blog on PostgreSQL, side by side with Tornado's own blog demo (aiopg): GET / (the home
# page, 5 of the 10 entries rendered) under the same wrk load, on the same database with the
# same data. The figure is server CPU time (user+sys, all threads) per request, as in
# ../shared/peers/run.sh; db_us/req is the CPU of PostgreSQL's backends per request (the same
# query for both, so it should match).
#
# usage: benches/blog.sh [DURATION_S] [ROUNDS] [CONNS]                 (default: 5 2 32)
# needs: PostgreSQL's server programs (initdb, pg_ctl: Debian's `postgresql`), wrk, curl,
#   taskset; `cargo build --release -p web --example blog`;
#   `python3 -m pip install tornado aiopg bcrypt markdown` and Tornado's demo
#   (TORNADO_BLOG, default /work/tornado/demos/blog: the directory of blog.py).
# Each server is pinned to CPU 0 and wrk to CPU 1 (PostgreSQL runs where it can). Rows:
#   ours_sync       target/release/examples/blog --db postgres://... --db-pool 4 --db-driver sync
#                   (the blocking `postgres` crate on run_in_executor's helper threads)
#   ours_tokio      the same with --db-driver tokio (tokio-postgres polled on our loop through
#                   the tokio bridge; its runtime thread is in the process, so in the figure)
#   tornado         blog.py as shipped: debug=True (templates recompiled per request, autoreload)
#   tornado_nodebug blog.py with debug=False (what a deployment runs): the fair comparison
# (Tornado's copy is fixed first: see below.)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
D=${1:-5}; R=${2:-2}; C=${3:-32}
BLOG=${BLOG:-$here/target/release/examples/blog}
TORNADO_BLOG=${TORNADO_BLOG:-/work/tornado/demos/blog}
[[ -x $BLOG ]] || { echo "no $BLOG: cargo build --release -p web --example blog"; exit 1; }
[[ -f $TORNADO_BLOG/blog.py ]] || { echo "no $TORNADO_BLOG/blog.py (set TORNADO_BLOG)"; exit 1; }
python3 -c "import tornado, aiopg, bcrypt, markdown" 2>/dev/null \
  || { echo "python3 -m pip install tornado aiopg bcrypt markdown"; exit 1; }
pgbin=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
[[ -x $pgbin/pg_ctl ]] || { echo "no PostgreSQL server programs (apt-get install postgresql)"; exit 1; }

# A throwaway cluster on a free port (as the `postgres` user when run as root: PostgreSQL
# refuses to run as root), removed on exit.
pgdir=$(mktemp -d /tmp/blog-bench-pg.XXXXXX)
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$pgdir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$pgdir"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null || exit 1
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || exit 1
psql() { command psql -h 127.0.0.1 -p "$pgport" -U postgres -X -q -A -t "$@"; }
psql -d postgres -c "CREATE USER blog WITH PASSWORD 'blog'" -c "CREATE DATABASE blog OWNER blog"
url="postgres://blog:blog@127.0.0.1:$pgport/blog"

cpu() { awk '{print $14+$15}' /proc/$1/stat; }
# CPU of PostgreSQL's server processes (the postmaster's children: the pooled backends live on)
dbcpu() {
  local master s=0 c
  master=$(head -1 "$pgdir/data/postmaster.pid")
  for c in $(ps --ppid "$master" -o pid=); do s=$((s + $(cpu "$c" 2>/dev/null || echo 0))); done
  echo $s
}
tick=$(getconf CLK_TCK)
wait_up() {
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  return 1
}

# Our blog first: it creates the tables (Tornado's demo finds them there). Then the data: one
# author and 10 entries, each a few paragraphs of Markdown, rendered as Tornado's demo would.
port=9500
taskset -c 0 "$BLOG" --port $port --db "$url" --db-pool 4 --db-driver sync >/dev/null 2>&1 &
pids+=($!)
wait_up $port || { echo "our blog did not start"; exit 1; }
psql -d blog -c "INSERT INTO authors (email, name, hashed_password) VALUES ('a@example.com', 'A', 'x')"
python3 - "$pgport" <<'EOF' | psql -d blog
import markdown, sys
for i in range(1, 11):
    text = f"Entry number **{i}**, with [a link](http://example.com/{i}).\n\n" + \
        "A paragraph of plain text about nothing in particular. " * 8 + "\n\n- one\n- two\n- three\n"
    html = markdown.markdown(text)
    q = lambda s: "'" + s.replace("'", "''") + "'"
    print(f"INSERT INTO entries (author_id, slug, title, markdown, html, published, updated) "
          f"VALUES (1, 'entry-{i}', {q(f'Entry {i}')}, {q(text)}, {q(html)}, "
          f"now() - interval '{i} hours', now() - interval '{i} hours');")
EOF
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null; pids=()

# Tornado's demo runs from a copy: its base.html as checked out has two stray spaces inside
# quotes (`handler.settings[" blog_title"]`, `static_url(" blog.css")`) that make every page a
# 500; the copy has them removed, and a blog_nodebug.py that is blog.py with debug=False.
tdir=$pgdir/tornado-blog
cp -r "$TORNADO_BLOG" "$tdir"
sed -i 's/" blog_title"/"blog_title"/g; s/(" blog.css")/("blog.css")/g' "$tdir/templates/base.html"
sed 's/debug=True/debug=False/' "$tdir/blog.py" >"$tdir/blog_nodebug.py"
tflags="--db_host=127.0.0.1 --db_port=$pgport --db_database=blog --db_user=blog --db_password=blog"
declare -A CMD=(
  [ours_sync]="$BLOG --port {port} --db $url --db-pool 4 --db-driver sync"
  [ours_tokio]="$BLOG --port {port} --db $url --db-pool 4 --db-driver tokio"
  [tornado]="python3 blog.py --port={port} $tflags"
  [tornado_nodebug]="python3 blog_nodebug.py --port={port} $tflags"
)
NAMES=(${NAMES:-ours_sync ours_tokio tornado tornado_nodebug})
rows=$pgdir/rows
printf "%-6s %-16s %10s %10s %10s %9s %s\n" round server req/s us_cpu/req db_us/req p99 errors
for r in $(seq 1 "$R"); do
  for n in "${NAMES[@]}"; do
    port=$((port + 1))
    c=${CMD[$n]//\{port\}/$port}
    (cd "$tdir" && exec taskset -c 0 $c >/dev/null 2>&1) &
    pid=$!
    pids=($pid)
    if ! wait_up $port; then echo "round $r $n: did not answer on port $port"; kill $pid; continue; fi
    body=$(curl -s "http://127.0.0.1:$port/")
    shown=$(grep -o 'href="/entry/entry-[0-9]*"' <<<"$body" | sort -u | wc -l)
    [[ $shown == 5 ]] || echo "round $r $n: GET / shows $shown entries, not 5"
    # warm-up (connections, caches, the pool), then the measured run
    taskset -c 1 wrk -t1 -c"$C" -d1s "http://127.0.0.1:$port/" >/dev/null 2>&1
    t0=$(cpu $pid); d0=$(dbcpu)
    out=$(taskset -c 1 wrk -t1 -c"$C" -d"${D}s" --latency "http://127.0.0.1:$port/" 2>&1)
    t1=$(cpu $pid); d1=$(dbcpu)
    kill $pid; wait $pid 2>/dev/null; pids=()
    n_req=$(awk '/requests in/{print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); p99=$(awk '/ 99%/{print $2}' <<<"$out")
    us=$(awk -v t=$((t1 - t0)) -v n="${n_req:-0}" -v k=$tick 'BEGIN{if (n > 0) printf "%.1f", t * 1e6 / k / n; else print "-"}')
    dbus=$(awk -v t=$((d1 - d0)) -v n="${n_req:-0}" -v k=$tick 'BEGIN{if (n > 0) printf "%.1f", t * 1e6 / k / n; else print "-"}')
    err=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ')
    printf "%-6s %-16s %10s %10s %10s %9s %s\n" "$r" "$n" "$rps" "$us" "$dbus" "$p99" "$err" | tee -a "$rows"
  done
done

# Medians over the rounds, and each server's CPU per request as a fraction of Tornado's.
echo
printf "%-16s %10s %10s %12s %12s\n" median req/s us_cpu/req "x nodebug" "x shipped"
python3 - "$rows" "${NAMES[@]}" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for n in sys.argv[2:]:
    got = [(float(r[2]), float(r[3])) for r in rows if r[1] == n and r[3] != "-"]
    if got:
        med[n] = (statistics.median(g[0] for g in got), statistics.median(g[1] for g in got))
def ratio(n, ref):
    return f"{med[n][1] / med[ref][1]:.3f}" if ref in med else "-"
for n, (rps, us) in med.items():
    print(f"{n:<16} {rps:>10.0f} {us:>10.1f} {ratio(n, 'tornado_nodebug'):>12} {ratio(n, 'tornado'):>12}")
EOF
