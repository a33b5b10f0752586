#!/usr/bin/env bash
# CPU of `netwatch top` beside `netwatch watch` at the same interval, on an
# idle veth in a throwaway network namespace, from /proc/<pid>/stat
# (utime + stime) over the same measured window. top draws into a 100x30
# tmux pane; watch writes its table to /dev/null.
#
#   sudo bash scripts/cost/top.sh [SECONDS] [INTERVAL]     (default 30 1s)
#
# Needs root (the ebpf backend), ip (iproute2) and tmux.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
interval=${2:-1s}
[ "$(id -u)" -eq 0 ] || { echo "top.sh: run as root (the ebpf backend needs it)" >&2; exit 1; }
for t in ip tmux; do command -v "$t" >/dev/null || { echo "top.sh: needs $t" >&2; exit 1; }; done

work=$(mktemp -d)
ns=nwcost-$$
sock=$work/tmux.sock
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
PATH=$PATH:/usr/local/go/bin go build -o "$work/netwatch" ./cmd/netwatch
ip netns add "$ns"
ip -n "$ns" link add nwc-a type veth peer name nwc-b
ip -n "$ns" link set nwc-a up
ip -n "$ns" link set nwc-b up

hz=$(getconf CLK_TCK)
# cpu PID: utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat).
cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# measure PID: ms of CPU per second over $secs, after a 3 s warm-up.
measure() {
  sleep 3
  local c0 t0 c1 t1
  c0=$(cpu "$1"); t0=$(date +%s.%N)
  sleep "$secs"
  c1=$(cpu "$1"); t1=$(date +%s.%N)
  awk -v c="$((c1 - c0))" -v hz="$hz" -v dt="$(echo "$t1 - $t0" | bc)" 'BEGIN { printf "%.2f", c * 1000 / hz / dt }'
}

# watch
ip netns exec "$ns" "$work/netwatch" watch -i 'nwc-*' -n "$interval" >/dev/null &
wpid=$!
w=$(measure "$wpid")
kill -TERM "$wpid"; wait "$wpid" || true

# top, in a real terminal
tmux -S "$sock" -f /dev/null new-session -d -x 100 -y 30 \
  "ip netns exec $ns $work/netwatch top -i 'nwc-*' -n $interval"
for _ in $(seq 50); do
  shell=$(tmux -S "$sock" display-message -p '#{pane_pid}')
  tpid=$(pgrep -P "$shell" -x netwatch || true)
  [ -n "$tpid" ] && break
  [ "$(readlink "/proc/$shell/exe")" = "$work/netwatch" ] && { tpid=$shell; break; }
  sleep 0.1
done
[ -n "${tpid:-}" ] || { echo "top.sh: netwatch top did not start" >&2; exit 1; }
t=$(measure "$tpid")
tmux -S "$sock" send-keys q

printf 'CPU per second of sampling, idle veth, %ss window, interval %s (ms of CPU per s)\n' "$secs" "$interval"
printf '  netwatch watch   %s\n' "$w"
printf '  netwatch top     %s\n' "$t"
