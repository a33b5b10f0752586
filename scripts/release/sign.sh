#!/usr/bin/env bash
# Signs DIR/SHA256SUMS (default dist/) with minisign: writes
# DIR/SHA256SUMS.minisig, a detached signature whose trusted comment names
# the release. Run it on the offline signing machine (keys/README.md); CI
# runs it with a throw-away key made in the run.
#
#   scripts/release/sign.sh SECRET_KEY [DIR]
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 SECRET_KEY [DIR]" >&2
	exit 2
fi
key=$1 dir=${2:-dist}
command -v minisign >/dev/null || { echo "sign: minisign not found (apt-get install minisign)" >&2; exit 1; }
[ -f "$dir/SHA256SUMS" ] || { echo "sign: no $dir/SHA256SUMS (make release first)" >&2; exit 1; }

# The trusted comment is signed too: it says which release this is.
first=$(awk 'NR == 1 { print $2 }' "$dir/SHA256SUMS")
minisign -S -s "$key" -m "$dir/SHA256SUMS" -x "$dir/SHA256SUMS.minisig" \
	-t "netwatch release SHA256SUMS (${first%-*-*})"
echo "sign: $dir/SHA256SUMS.minisig"
