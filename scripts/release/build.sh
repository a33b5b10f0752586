#!/usr/bin/env bash
# Release build (make release): from the checked-out commit, into OUT_DIR
# (default dist/):
#   netwatch-VERSION-OS-ARCH           static binaries (CGO off) for linux and
#                                      darwin, amd64 and arm64
#   netwatch-VERSION-OS-ARCH.cdx.json  a CycloneDX SBOM per binary (cyclonedx-gomod)
#   netwatch_DEBVERSION_ARCH.deb       Debian packages (linux amd64, arm64)
#   SHA256SUMS                         sha256sum over all of the above
#
# Nothing machine-specific goes in: paths are trimmed, the build date is the
# commit's (SOURCE_DATE_EPOCH), the Go environment is pinned below, and file
# times, owners and modes inside the packages are fixed. Two builds of one
# commit in two directories give byte-identical files (scripts/release/
# reproducible.sh checks it) with the same Go version (go.mod's toolchain
# rules pick it; `netwatch --version` and the SBOM record it).
#
# Needs: git, go, dpkg-deb and gzip (Debian: dpkg, gzip), sha256sum.
set -euo pipefail

cd "$(dirname "$0")/../.."
out=${1:-dist}
GO=${GO:-go}

# Only these targets; the order is the order of SHA256SUMS.
targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)

die() { echo "release: $*" >&2; exit 1; }
for tool in git "$GO" dpkg-deb gzip sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found (dpkg-deb: apt-get install dpkg; sha256sum: coreutils)"
done

# A fixed environment: the user's GOFLAGS, GOAMD64 and the like would
# change the output; the locale, time zone and umask must not matter.
export LC_ALL=C TZ=UTC CGO_ENABLED=0 GOFLAGS=-mod=readonly GOAMD64=v1 GOARM64=v8.0
unset GOEXPERIMENT GODEBUG
umask 022

# --- what is being built ---------------------------------------------------
commit=$(git rev-parse HEAD)
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
build_date=$(git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ HEAD)
dirty=
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	dirty=-dirty
	echo "release: warning: uncommitted changes; the version says -dirty and the build is not reproducible" >&2
fi
# A tag vX.Y.Z on the commit gives vX.Y.Z, commits after it vX.Y.Z-N-gHASH;
# without a tag, a Go-style pseudo-version v0.0.0-YYYYMMDDhhmmss-HASH12.
if tag=$(git describe --tags --match 'v[0-9]*' HEAD 2>/dev/null); then
	version=$tag$dirty
else
	version=v0.0.0-$(git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)-${commit:0:12}$dirty
fi
# Debian: no leading v; "~" sorts a pseudo-version before any release.
deb_version=${version#v}
case $deb_version in
0.0.0-*) deb_version=0.0.0~git${deb_version#0.0.0-} ;;
esac
deb_version=${deb_version//-/.}

echo "release: netwatch $version (commit $commit, $build_date) -> $out/"
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit -X main.buildDate=$build_date"

# --- binaries and SBOMs ----------------------------------------------------
# The SBOM generator, pinned in tools/release/go.mod (a module of its own,
# so that it cannot change netwatch's dependencies), runs on this machine,
# so it is built for it, once; CYCLONEDX_GOMOD names one already built
# (reproducible.sh builds it once for both of its builds).
cyclonedx=${CYCLONEDX_GOMOD:-$work/cyclonedx-gomod}
if [ -z "${CYCLONEDX_GOMOD:-}" ]; then
	(cd tools/release && GOOS='' GOARCH='' "$GO" build -trimpath -o "$cyclonedx" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod)
fi

for target in "${targets[@]}"; do
	os=${target%/*} arch=${target#*/}
	bin=netwatch-$version-$os-$arch
	echo "release: $bin"
	GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out/$bin" ./cmd/netwatch
	# From the binary's own build information: exactly the modules (and the
	# Go standard library) linked into it, with their go.sum hashes. No
	# serial number and no timestamp, which would differ on every run.
	"$cyclonedx" bin -json -std -noserial -notimestamp -version "$version" \
		-output "$out/$bin.cdx.json" "$out/$bin" 2>"$work/sbom.log" ||
		{ cat "$work/sbom.log" >&2; die "SBOM for $bin failed"; }
done

# --- man pages and completions (generated from the CLI itself) -------------
# Man pages: TestManPages renders one page per command with urfave/cli's
# ToMan and writes them where NETWATCH_MAN_DIR says. Completions: the
# completion command of a build for this machine.
GOOS='' GOARCH='' NETWATCH_MAN_DIR="$work/man" "$GO" test -count=1 -run '^TestManPages$' ./cmd/netwatch >"$work/man.log" 2>&1 ||
	{ cat "$work/man.log" >&2; die "generating man pages failed"; }
GOOS='' GOARCH='' "$GO" build -trimpath -buildvcs=false -o "$work/netwatch-host" ./cmd/netwatch
mkdir -p "$work/completions"
for shell in bash zsh fish; do
	"$work/netwatch-host" completion "$shell" >"$work/completions/$shell"
done

# --- Debian packages ---------------------------------------------------------
# Installed-Size: the sum of the files in KiB, rounded up per file as
# dpkg-gencontrol does (du would depend on the file system).
installed_size() { find "$1" -type f -printf '%s\n' | awk '{ s += int(($1 + 1023) / 1024) } END { print s }'; }

deb() { # deb ARCH BINARY
	local arch=$1 bin=$2 root="$work/deb-$1"
	install -D -m 0755 "$bin" "$root/usr/bin/netwatch"
	local page
	for page in "$work"/man/*.1; do
		install -D -m 0644 "$page" "$root/usr/share/man/man1/$(basename "$page")"
		gzip -9n "$root/usr/share/man/man1/$(basename "$page")"
	done
	install -D -m 0644 "$work/completions/bash" "$root/usr/share/bash-completion/completions/netwatch"
	install -D -m 0644 "$work/completions/zsh" "$root/usr/share/zsh/vendor-completions/_netwatch"
	install -D -m 0644 "$work/completions/fish" "$root/usr/share/fish/vendor_completions.d/netwatch.fish"
	install -D -m 0644 packaging/netwatch.service "$root/lib/systemd/system/netwatch.service"
	install -d -m 0755 "$root/usr/share/doc/netwatch"
	{
		echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
		echo "Upstream-Name: netwatch"
		echo "Source: https://github.com/netwatch-dev/netwatch"
		echo
		echo "Files: *"
		echo "License: see below (LICENSE of the source tree); the BPF programs are GPL-2.0 OR a permissive licence"
		sed 's/^$/./; s/^/ /' LICENSE
	} >"$root/usr/share/doc/netwatch/copyright"
	chmod 0644 "$root/usr/share/doc/netwatch/copyright"

	install -d -m 0755 "$root/DEBIAN"
	sed -e "s/@VERSION@/$deb_version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$(installed_size "$root")/" \
		packaging/deb/control.in >"$root/DEBIAN/control"
	install -m 0755 packaging/deb/postinst packaging/deb/prerm "$root/DEBIAN/"
	(cd "$root" && find usr lib -type f | sort | xargs md5sum) >"$root/DEBIAN/md5sums"
	chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

	# Directories 0755 whatever the umask was when they were made; every
	# time the commit's; owner root (--root-owner-group).
	find "$root" -type d -exec chmod 0755 {} +
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group -Zxz --build "$root" "$out/netwatch_${deb_version}_$arch.deb" >/dev/null
	echo "release: netwatch_${deb_version}_$arch.deb"
}
deb amd64 "$out/netwatch-$version-linux-amd64"
deb arm64 "$out/netwatch-$version-linux-arm64"

# --- checksums -------------------------------------------------------------
(cd "$out" && sha256sum -- netwatch-* netwatch_*.deb >SHA256SUMS)
echo "release: $out/SHA256SUMS"
cat "$out/SHA256SUMS"
