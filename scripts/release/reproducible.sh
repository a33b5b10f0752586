#!/usr/bin/env bash
# Proves that the release build is reproducible: checks out one commit
# (default HEAD) twice, in two directories with different paths, builds the
# release in each with its own empty Go build cache, temporary directory,
# time zone, locale and umask, and fails unless SHA256SUMS and every file are
# byte-identical.
#
#   scripts/release/reproducible.sh [-o OUT_DIR] [COMMIT]
#
# -o copies the (identical) artefacts of the first build to OUT_DIR, so a
# caller (CI) can go on with them. Uncommitted changes are not built: the
# checkouts hold the commit only.
set -euo pipefail

out=
if [ "${1:-}" = -o ]; then
	out=$2
	shift 2
fi
rev=${1:-HEAD}

repo=$(git -C "$(dirname "$0")/../.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}")
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ] && [ "$rev" = HEAD ]; then
	echo "reproducible: note: uncommitted changes are not part of the check (it builds $commit)" >&2
fi

tmp=$(mktemp -d)
cleanup() {
	for d in "$tmp"/a/src "$tmp"/bb/source-tree; do
		[ -d "$d" ] && git -C "$repo" worktree remove --force "$d"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# build NAME SRC_DIR UMASK TZ LANG: a checkout of $commit at SRC_DIR, built
# with its own GOCACHE and TMPDIR; artefacts in SRC_DIR/dist.
build() {
	local name=$1 src=$2 mask=$3 tz=$4 lang=$5
	mkdir -p "$tmp/$name/cache" "$tmp/$name/tmp"
	echo "reproducible: build $name in $src"
	(
		umask "$mask"
		git -C "$repo" worktree add --quiet --detach "$src" "$commit"
		cd "$src"
		TZ=$tz LANG=$lang GOCACHE="$tmp/$name/cache" TMPDIR="$tmp/$name/tmp" GOTMPDIR="$tmp/$name/tmp" \
			bash scripts/release/build.sh dist >"$tmp/$name/build.log" 2>&1
	) || {
		cat "$tmp/$name/build.log" >&2
		echo "reproducible: build $name failed" >&2
		exit 1
	}
}

# The SBOM generator is a tool, not an artefact: built once, as pinned in
# the commit's tools/release/go.mod, for both builds (the SBOMs it writes
# are compared).
mkdir -p "$tmp/tool"
git -C "$repo" show "$commit:tools/release/go.mod" >"$tmp/tool/go.mod"
git -C "$repo" show "$commit:tools/release/go.sum" >"$tmp/tool/go.sum"
echo "reproducible: build cyclonedx-gomod"
(cd "$tmp/tool" && GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/cyclonedx-gomod" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod)
export CYCLONEDX_GOMOD=$tmp/cyclonedx-gomod

# Different depths and names, so a path that leaks in shows up.
build a "$tmp/a/src" 022 UTC C
build bb "$tmp/bb/source-tree" 077 America/Los_Angeles C.UTF-8

a=$tmp/a/src/dist b=$tmp/bb/source-tree/dist
status=0
if ! diff -u "$a/SHA256SUMS" "$b/SHA256SUMS"; then
	status=1
fi
if ! diff -r -q "$a" "$b"; then
	status=1
fi
if [ "$status" -ne 0 ]; then
	echo "reproducible: FAIL: the two builds of $commit differ (see above)" >&2
	exit 1
fi
(cd "$a" && sha256sum --quiet -c SHA256SUMS)
echo "reproducible: OK: two builds of $commit in two directories are byte-identical:"
cat "$a/SHA256SUMS"
if [ -n "$out" ]; then
	rm -rf "$out"
	mkdir -p "$out"
	cp -p "$a"/* "$out"/
	echo "reproducible: artefacts copied to $out"
fi
