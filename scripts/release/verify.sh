#!/usr/bin/env bash
# Verifies a release directory (default dist/): the minisign signature over
# SHA256SUMS with the public key, then every file SHA256SUMS lists.
#
#   scripts/release/verify.sh [-p PUBLIC_KEY] [DIR]
#
# The default key is keys/netwatch-release.pub (see keys/README.md). A user
# who downloaded only some files checks those with the two commands in
# SECURITY.md ("Verifying a release"), which ignore missing files.
set -euo pipefail

pub=$(dirname "$0")/../../keys/netwatch-release.pub
if [ "${1:-}" = -p ]; then
	pub=$2
	shift 2
fi
dir=${1:-dist}

command -v minisign >/dev/null || { echo "verify: minisign not found (apt-get install minisign)" >&2; exit 1; }
if [ ! -f "$pub" ]; then
	echo "verify: no public key at $pub (no release key is published in keys/ yet; pass -p KEY)" >&2
	exit 1
fi
minisign -V -p "$pub" -m "$dir/SHA256SUMS" -x "$dir/SHA256SUMS.minisig"
(cd "$dir" && sha256sum --strict -c SHA256SUMS)
echo "verify: OK: signature and checksums of $(grep -c . "$dir/SHA256SUMS") files in $dir"
