# netwatch — build, test, lint, benchmark, run.
GO       ?= go
BIN      ?= bin/netwatch
ARGS     ?=
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
# The commit's date, never the clock's (netwatch --version prints it).
DATE     ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(DATE)
# Privileged tests (eBPF, network namespaces) run as root and skip otherwise;
# NETWATCH_PRIVILEGED_TESTS=require turns such a skip into a failure (CI).
TESTFLAGS ?= -count=1 -timeout 20m
PKGS      ?= ./...

.PHONY: all build test lint generate bench compare cost cost-pps cost-scale cost-netns cost-containers run clean cross fuzz soak release reproducible

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/netwatch

## test: every unit, fixture, golden, kernel and end-to-end test, then one
## line with the skipped tests and why ("netwatch: 12 tests skipped: ...").
## scripts/testsummary runs go test -json, prints what go test prints and
## that line, and exits with go test's status. It is built in a temporary
## directory, so that `sudo make test` leaves no root-owned file behind.
test:
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  $(GO) build -o "$$d/testsummary" ./scripts/testsummary && \
	  echo "testsummary $(GO) test -json $(TESTFLAGS) $(PKGS)" && \
	  "$$d/testsummary" $(GO) test -json $(TESTFLAGS) $(PKGS)

## lint: gofmt, go vet (linux and darwin), staticcheck.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_bpfe[lb]\.go$$')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	$(GO) tool staticcheck ./...

## cross: the macOS builds must keep compiling.
cross:
	GOOS=darwin GOARCH=amd64 $(GO) build -o /dev/null ./cmd/netwatch
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/netwatch

## release: static binaries for linux and darwin (amd64, arm64), an SBOM
## each, Debian packages and SHA256SUMS in dist/ (scripts/release/build.sh).
release:
	bash scripts/release/build.sh dist

## reproducible: build the release twice from HEAD in two fresh checkouts
## and fail unless every file is byte-identical.
reproducible:
	bash scripts/release/reproducible.sh

## generate: rebuild the BPF objects with clang (bpf2go); the output is committed.
generate:
	$(GO) generate ./internal/backend/ebpf/

## bench: per-packet and per-poll costs, printed as ratios against baselines
## measured in the same run.
## (the eBPF benchmarks need root; they interleave program and baseline runs
## and report ratios such as counter/empty and procfs/ebpf; BenchmarkRead
## reads 4, 100 and 1,000 veth interfaces in a namespace with ebpf, netlink
## and procfs, interleaved; internal/netnsinfo's BenchmarkDiscover and
## BenchmarkPeers cost the namespace scan per process, container and veth)
bench:
	$(GO) test -run '^$$' -bench Read -benchtime 200x -count 1 ./internal/backend/
	$(GO) test -run '^$$' -bench . -benchtime 2000x -count 1 ./internal/backend/ebpf/
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 1 ./internal/backend/procfs/ ./internal/backend/sysctl/ ./internal/output/ ./internal/exporter/ ./internal/netnsinfo/

## fuzz: every go test -fuzz target for FUZZTIME each (CI: 10s), seed
## corpora in the targets and testdata/fuzz.
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) scripts/fuzz $(FUZZTIME)

## soak: 10 minutes (SOAK=2m for less) of watch at 1 ms bins on a veth pair
## with continuous traffic and veth pairs coming and going; prints lost bins,
## RSS and thread trend, and totals against the kernel (root).
SOAK ?= 10m
soak:
	GO=$(GO) scripts/soak/soak.sh $(SOAK)

## compare: netwatch side by side with ifstat, bwm-ng, sar, bmon, nload on a
## veth pair in namespaces it creates (root; installs the peers with apt-get).
compare:
	bash scripts/compare/compare.sh

## cost: wake-ups/s and CPU ms/s of netwatch -n 1s (1 ms bins, 4 interfaces)
## and -n 10ms side by side with a C loop on the same absolute timer and
## bwm-ng, plus BenchmarkProg's per-packet ratios (root; exits 1 on a missed
## target).
cost:
	bash scripts/cost/cost.sh

## cost-pps: UDP packets per second through a veth pair between two
## namespaces with netwatch (-n 1s, 1 ms bins; and --resolution 0) attached to
## both ends vs not attached, interleaved rounds, medians and ratios (root;
## ROUNDS=5 WINDOW=5; exits 1 if 1 ms bins cost more than 3%).
cost-pps:
	bash scripts/cost/pps.sh

## cost-netns: `watch --netns ns1,...,nsN -n 1s` for N = COUNTS (default
## "1 10 50") named namespaces, ebpf and netlink: start time, CPU ms/s, RSS
## (root; scripts/cost/netns.sh).
cost-netns:
	bash scripts/cost/netns.sh

## cost-scale: 1,000 veth interfaces (PAIRS=500) with traffic on all of them,
## watch -n 1s, 1 ms bins, --attach tc for DURATION=180 seconds (600 for the
## issue's 10 minutes): attach time, CPU % of one core, lost bins, RSS trend
## (root; exits 1 on a missed target).
cost-scale:
	bash scripts/cost/scale.sh

## cost-containers: what container labels cost: /proc scans counted over a
## minute of an idle watch, and watch's CPU with labels on vs off, without
## and with 100 fake containers (CONTAINERS=), each with a veth (root).
cost-containers:
	bash scripts/cost/containers.sh

## run: go run the CLI; pass arguments with ARGS="watch -n 100ms". Not
## echoed, so that its output can be piped (make run ARGS="snapshot --json" | jq);
## from another make or with -C add -s, or make prints "Entering directory".
run:
	@$(GO) run ./cmd/netwatch $(ARGS)

clean:
	rm -rf bin dist
