# shellcheck shell=bash
# lib.sh: what the cost scripts share. Source it after setting ROOT, GO and
# WORK, and defining die.

# build_netwatch sets NETWATCH: as given in the environment, or a fresh
# build of this checkout in $WORK.
build_netwatch() {
	NETWATCH=${NETWATCH:-}
	if [[ -z $NETWATCH ]]; then
		(cd "$ROOT" && $GO build -trimpath -o "$WORK/netwatch" ./cmd/netwatch) || die "build netwatch"
		NETWATCH=$WORK/netwatch
	fi
}
