#!/usr/bin/env bash
# Installs a netwatch Debian package on this machine, checks that what it
# installed works, and that removing it leaves nothing behind (CI runs this
# as root on a throw-away machine):
#   dpkg -i; netwatch --version names the package's version; snapshot --json
#   with procfs; every man page and the completions load; the systemd unit
#   passes systemd-analyze verify and its exposure score stays at most
#   MAX_EXPOSURE; the unit's privileges (a non-root user with only CAP_BPF
#   and CAP_NET_ADMIN, no new privileges) are enough for the eBPF backend
#   (in a throw-away network namespace); dpkg -r; no file left.
#
#   scripts/release/check-deb.sh PACKAGE.deb
#
# Needs root, dpkg, man-db, systemd (systemd-analyze), jq, iproute2 (ip) and
# util-linux (setpriv). systemd need not be running.
set -euo pipefail

deb=$1
max_exposure=${MAX_EXPOSURE:-2.0}
unit=/lib/systemd/system/netwatch.service

die() { echo "check-deb: FAIL: $*" >&2; exit 1; }
say() { echo "check-deb: $*"; }
[ "$(id -u)" = 0 ] || die "needs root (dpkg -i)"
for tool in dpkg man systemd-analyze jq ip setpriv; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
if dpkg-query -W -f '${Status}' netwatch 2>/dev/null | grep -q installed; then
	die "netwatch is already installed; remove it first"
fi

# Every path under the places a package can touch, except dpkg's own
# database and the caches and logs that any dpkg run changes.
snapshot() {
	local roots=(/etc /usr /opt /var)
	[ -L /lib ] || roots+=(/lib)
	find "${roots[@]}" -xdev \
		\( -path /var/lib/dpkg -o -path /var/cache -o -path /var/log -o -path /var/tmp \
		-o -path /var/lib/apt -o -path /var/lib/systemd \) -prune -o -print 2>/dev/null | sort
}
before=$(mktemp) after=$(mktemp) ns=
cleanup() {
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -f "$before" "$after"
}
trap cleanup EXIT
snapshot >"$before"

version=$(dpkg-deb -f "$deb" Version)
say "dpkg -i $deb ($version)"
dpkg -i "$deb"

say "netwatch --version"
out=$(netwatch --version)
echo "$out"
grep -q '^  bpf object:  sha256:[0-9a-f]\{64\}$' <<<"$out" || die "--version has no BPF object hash"
# The package's version is the binary's, in Debian spelling.
bin_version=$(awk 'NR == 1 { print $2 }' <<<"$out")
want=${bin_version#v}
case $want in 0.0.0-*) want=0.0.0~git${want#0.0.0-} ;; esac
[ "${want//-/.}" = "$version" ] || die "binary version $bin_version does not match package version $version"

say "netwatch snapshot --json -b procfs"
# (Not tee /dev/stderr: when stderr is a log file, reopening it truncates it.)
json=$(netwatch snapshot --json -b procfs -w 100ms)
sed -n '1,12p' <<<"$json"
jq -e '.backend == "procfs" and (.interfaces | type == "array" and length > 0) and (.interfaces[0].rx_bytes | type == "number")' \
	<<<"$json" >/dev/null || die "snapshot --json -b procfs did not print a procfs sample"

say "man pages"
pages=$(dpkg -L netwatch | grep '^/usr/share/man/man1/.*\.1\.gz$' | sed 's|.*/||; s|\.1\.gz$||')
[ "$(wc -l <<<"$pages")" -ge 5 ] || die "expected netwatch(1) and one page per command, got: $pages"
# (Output kept whole before grep: grep -q would close the pipe early.)
for page in $pages; do
	text=$(MANPAGER='cat' MANWIDTH=80 man 1 "$page" 2>/dev/null) || die "man 1 $page failed"
	grep -q "^NAME" <<<"$text" || die "man 1 $page does not render"
done
text=$(MANPAGER='cat' man netwatch-snapshot)
grep -q -- '--window' <<<"$text" || die "man netwatch-snapshot does not document --window"
echo "$pages" | tr '\n' ' '
echo

say "shell completions"
bash -c 'source /usr/share/bash-completion/completions/netwatch && complete -p netwatch' >/dev/null ||
	die "bash completion does not load"
grep -q '^complete -c netwatch' /usr/share/fish/vendor_completions.d/netwatch.fish || die "fish completion is empty"
grep -q '^#compdef netwatch' /usr/share/zsh/vendor-completions/_netwatch || die "zsh completion has no #compdef"

say "systemd-analyze verify $unit"
systemd-analyze verify "$unit"
score=$(systemd-analyze security --offline=yes "$unit" | sed -n 's/.*Overall exposure level for netwatch.service: \([0-9.]*\).*/\1/p')
say "systemd-analyze security: exposure $score (at most $max_exposure)"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }' ||
	die "exposure $score is above $max_exposure"
for want in 'DynamicUser=yes' 'AmbientCapabilities=CAP_BPF CAP_NET_ADMIN' 'CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN' \
	'NoNewPrivileges=yes' 'SystemCallFilter=@system-service bpf'; do
	grep -qx "$want" "$unit" || die "$unit lacks $want"
done

# systemd is not needed to check the unit's privileges: the same identity
# (not root), capability sets and no-new-privileges, with setpriv, in a
# network namespace of our own so that no host interface is touched.
say "eBPF backend with the unit's privileges only (non-root, CAP_BPF + CAP_NET_ADMIN)"
ns=netwatch-check-deb-$$
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all,+bpf,+net_admin --ambient-caps=-all,+bpf,+net_admin --bounding-set=-all,+bpf,+net_admin \
	--no-new-privs netwatch snapshot --json -b ebpf -i lo -w 200ms |
	jq -e '.backend == "ebpf" and (.interfaces[0].name == "lo")' >/dev/null ||
	die "the eBPF backend did not run with CAP_BPF + CAP_NET_ADMIN as a non-root user"

# The unit's own command line, with its environment and the same
# privileges, scraped once from inside the namespace. Skipped (and said so)
# by a netwatch without the serve command.
if netwatch serve --help >/dev/null 2>&1; then
	say "netwatch serve as the unit starts it (ExecStart, Environment=, the unit's privileges); one scrape"
	read -ra exec_start <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
	mapfile -t unit_env < <(sed -n 's/^Environment=//p' "$unit")
	log=$(mktemp)
	ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+bpf,+net_admin --ambient-caps=-all,+bpf,+net_admin --bounding-set=-all,+bpf,+net_admin \
		--no-new-privs env "${unit_env[@]}" "${exec_start[@]}" >"$log" 2>&1 &
	serve_pid=$!
	# Until the first sample is in (at most 10 s).
	metrics='' want='^netwatch_network_receive_bytes_total{[^}]*device="lo"'
	for _ in $(seq 50); do
		sleep 0.2
		metrics=$(ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9977 &&
			printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && cat <&3' 2>/dev/null) || continue
		grep -q "$want" <<<"$metrics" && break
	done
	kill -TERM "$serve_pid"
	wait "$serve_pid" || { cat "$log" >&2; rm -f "$log"; die "serve did not exit cleanly on SIGTERM"; }
	rm -f "$log"
	grep -q "$want" <<<"$metrics" ||
		die "no netwatch_network_receive_bytes_total{…device=\"lo\"…} in the scrape: ${metrics:0:300}"
else
	say "this netwatch has no serve command: the unit's ExecStart was not run"
fi

say "dpkg -r netwatch"
dpkg -r netwatch
status=$(dpkg-query -W -f '${db:Status-Abbrev}' netwatch 2>/dev/null || true)
case $status in "" | un* | pn*) ;; *) die "after dpkg -r the package is still known: '$status'" ;; esac
ls /var/lib/dpkg/info/netwatch.* 2>/dev/null && die "dpkg -r left maintainer files"
snapshot >"$after"
if ! diff -u "$before" "$after"; then
	die "dpkg -r left files behind (or removed some): see the diff above"
fi
say "OK: installed, ran, documented, unit verified, removed without a trace"
