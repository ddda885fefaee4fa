#!/usr/bin/env bash
# Connections per second over TCP on 127.0.0.1: `openssl s_time -new` (full handshakes)
# and `-reuse` (session-ID resumption) against `tls12 server --www` and against
# `openssl s_server -tls1_2 -no_ticket -www`, one after the other in one run, with the same
# ECDSA P-256 certificate, suite (ECDHE-ECDSA-AES128-GCM-SHA256) and group (X25519).
# Neither server issues session tickets (`--no-tickets`, `-no_ticket`; pool_server has
# none): a full handshake seals no ticket, and `-reuse` resumes by session ID on all three.
# A third server, `pool_server` (this crate: the library's blocking adapter behind two
# long-lived threads blocking in accept, printing nothing), separates the library's cost
# from the CLI's own (`tls12 server` serves every connection as a task on a tokio runtime
# through tls12-tokio and, without --verbose, prints nothing per connection); the targets
# are about `tls12 server`.
#
#   benches/s_time.sh [SECONDS [ROUNDS]]  # default 5 seconds per run, 3 rounds
#   S_TIME_WWW=/ benches/s_time.sh     # also fetch a page per connection
#   S_TIME_THREADS=0 benches/s_time.sh # tls12 server with its default (a worker per core)
#
# `tls12 server` runs with --threads 1 (S_TIME_THREADS, 0 for its default): openssl s_server
# serves from one thread, and the comparison is of the CPU each spends per connection. With
# a worker per core, tokio hands connections between threads, and every hand-over is a
# futex or eventfd wake-up of another thread, which costs more CPU than the handshake itself
# on a small virtual machine (measured here: about twice the CPU per connection).
#
# By default s_time only handshakes and closes (no -www path): the servers' pages differ
# in size, the handshakes do not. Besides s_time's rate (connections / wall time of the
# s_time run) it prints each server's CPU time per connection, read from /proc: on this
# 2-core machine client and server share the CPUs, so the rate also measures s_time.
# Everything listens on 127.0.0.1 only. s_time's -time counts the client's user CPU
# seconds, so a run against a slow server lasts longer in wall time; `timeout` bounds each
# run at 10 x SECONDS + 30 s of wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-5}
rounds=${2:-3}
www=${S_TIME_WWW:-}
threads=${S_TIME_THREADS:-1}
thread_args=()
[ "$threads" != 0 ] && thread_args=(--threads "$threads")
cipher=ECDHE-ECDSA-AES128-GCM-SHA256

command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
cargo build --release -q -p tls12-cli
cargo build --release -q -p tls12-benches --bin pool_server
tls12=target/release/tls12
pool=target/release/pool_server

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key.pem" 2>/dev/null
openssl req -x509 -new -key "$tmp/key.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -days 2 -out "$tmp/cert.pem" 2>/dev/null

# Waits for a line matching $2 in file $1 and prints its port.
port_of() {
  local file=$1 pattern=$2
  for _ in $(seq 100); do
    if grep -q "$pattern" "$file" 2>/dev/null; then
      grep -m1 "$pattern" "$file" | sed 's/.*:\([0-9]*\).*/\1/'
      return
    fi
    sleep 0.1
  done
  echo "server did not start; its output:" >&2
  cat "$file" >&2
  exit 1
}

"$tls12" server --port 0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" --cache-size 1024 --www \
  --no-tickets "${thread_args[@]}" >"$tmp/tls12.out" 2>"$tmp/tls12.err" &
pids+=($!)
tls12_pid=$!
tls12_port=$(port_of "$tmp/tls12.out" "listening on")

"$pool" --cert "$tmp/cert.pem" --key "$tmp/key.pem" --cache-size 1024 \
  >"$tmp/pool.out" 2>&1 &
pids+=($!)
pool_pid=$!
pool_port=$(port_of "$tmp/pool.out" "listening on")

openssl s_server -accept 127.0.0.1:0 -cert "$tmp/cert.pem" -key "$tmp/key.pem" -tls1_2 \
  -no_ticket -www -cipher "$cipher" -groups X25519 \
  >"$tmp/openssl.out" 2>&1 </dev/null &
pids+=($!)
openssl_pid=$!
openssl_port=$(port_of "$tmp/openssl.out" "ACCEPT")

# CPU seconds a process has used so far: user + system, and system alone.
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f %.3f", ($14 + $15) / hz, $15 / hz }' "/proc/$1/stat"
}

# Runs s_time in mode $1 against port $2, server pid $3; prints "rate cpu_ms_per_conn
# connections kernel_share".
run() {
  local mode=$1 port=$2 pid=$3 out start end cpu0 cpu1 sys0 sys1 conns
  out="$tmp/s_time.$mode.$port"
  local args=(-connect "127.0.0.1:$port" "-$mode" -time "$secs" -cipher "$cipher" -tls1_2)
  [ -n "$www" ] && args+=(-www "$www")
  read -r cpu0 sys0 <<<"$(cpu_of "$pid")"
  start=$(date +%s.%N)
  timeout $((secs * 10 + 30)) openssl s_time "${args[@]}" >"$out" 2>&1 || true
  end=$(date +%s.%N)
  read -r cpu1 sys1 <<<"$(cpu_of "$pid")"
  conns=$(grep -m1 "connections in .* real seconds" "$out" | awk '{ print $1 }')
  if [ -z "$conns" ] || [ "$conns" -eq 0 ]; then
    echo "s_time -$mode against port $port made no connection:" >&2
    cat "$out" >&2
    exit 1
  fi
  awk -v n="$conns" -v s="$start" -v e="$end" -v c0="$cpu0" -v c1="$cpu1" -v s0="$sys0" \
    -v s1="$sys1" 'BEGIN { printf "%.0f %.3f %d %.0f%%\n", n / (e - s), (c1 - c0) * 1000 / n, n,
      (c1 > c0) ? 100 * (s1 - s0) / (c1 - c0) : 0 }'
}

echo "openssl s_time, ${secs} s per run, ${cipher}, X25519, 127.0.0.1$([ -n "$www" ] && echo ", GET $www")"
echo "tls12 server threads: $([ "$threads" = 0 ] && echo "its default (one per core)" || echo "$threads");" \
  "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "conn/s: connections / wall time of the s_time run; ms/c: the server's CPU per connection"
printf '%-7s %9s %9s %9s %13s   %8s %8s %8s\n' mode "tls12" "pool" "openssl" "tls12/openssl" \
  "tls12" "pool" "openssl"
printf '%-7s %9s %9s %9s %13s   %8s %8s %8s\n' "" "conn/s" "conn/s" "conn/s" "" \
  "ms/c" "ms/c" "ms/c"
# Median of the numbers on stdin.
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Each round runs every server in each mode, the order rotating, so that a disturbance of
# the shared machine does not fall on one server only; the verdicts use the medians.
declare -A rates cpus pool_cpus
for round in $(seq "$rounds"); do
  for mode in new reuse; do
    # Assignments, so that a failed run stops the script (set -e).
    case $((round % 3)) in
      1) r_ours=$(run "$mode" "$tls12_port" "$tls12_pid")
         r_pool=$(run "$mode" "$pool_port" "$pool_pid")
         r_theirs=$(run "$mode" "$openssl_port" "$openssl_pid") ;;
      2) r_pool=$(run "$mode" "$pool_port" "$pool_pid")
         r_theirs=$(run "$mode" "$openssl_port" "$openssl_pid")
         r_ours=$(run "$mode" "$tls12_port" "$tls12_pid") ;;
      0) r_theirs=$(run "$mode" "$openssl_port" "$openssl_pid")
         r_ours=$(run "$mode" "$tls12_port" "$tls12_pid")
         r_pool=$(run "$mode" "$pool_port" "$pool_pid") ;;
    esac
    read -r ours ours_cpu ours_n ours_sys <<<"$r_ours"
    read -r pooled pool_cpu _ _ <<<"$r_pool"
    read -r theirs theirs_cpu theirs_n theirs_sys <<<"$r_theirs"
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
    printf '%-7s %9s %9s %9s %13s   %8s %8s %8s   (round %d; kernel share: tls12 %s, openssl %s)\n' \
      "-$mode" "$ours" "$pooled" "$theirs" "$ratio" "$ours_cpu" "$pool_cpu" "$theirs_cpu" \
      "$round" "$ours_sys" "$theirs_sys"
    rates[$mode]+="$ratio "
    cpus[$mode]+="$(awk -v a="$ours_cpu" -v b="$theirs_cpu" 'BEGIN { printf "%.3f", a / b }') "
    pool_cpus[$mode]+="$(awk -v a="$pool_cpu" -v b="$theirs_cpu" 'BEGIN { printf "%.3f", a / b }') "
  done
done
for mode in new reuse; do
  rate=$(tr ' ' '\n' <<<"${rates[$mode]}" | grep . | median)
  cpu=$(tr ' ' '\n' <<<"${cpus[$mode]}" | grep . | median)
  pool_cpu=$(tr ' ' '\n' <<<"${pool_cpus[$mode]}" | grep . | median)
  verdict=$(awk -v r="$rate" 'BEGIN { print (r >= 1.0) ? "met" : "NOT met" }')
  cpu_verdict=$(awk -v r="$cpu" 'BEGIN { print (r <= 0.5) ? "met" : "NOT met" }')
  echo "target -$mode (medians of $rounds rounds): conn/s tls12 / openssl $rate >= 1.0: $verdict;" \
    "server CPU per connection tls12 / openssl $cpu <= 0.5: $cpu_verdict (pool_server $pool_cpu)"
done
errors=$(grep -c "error" "$tmp/tls12.out" || true)
if [ "$errors" -gt 0 ]; then
  echo "tls12 server printed $errors connection errors (s_time closes without waiting), e.g.:"
  grep -m2 "error" "$tmp/tls12.out"
fi
