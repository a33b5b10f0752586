// Command trafficgen sends UDP datagrams of a fixed size at a known rate, in
// bursts of a known length, and reports exactly what it sent and when; its
// listen mode is the receiving end. scripts/compare/compare.sh uses it to give
// netwatch and the tools it is compared with traffic whose truth is known.
//
//	trafficgen listen -addr 198.18.0.2:9000
//	trafficgen send -dst 198.18.0.2:9000 -size 1400 -rate 400Mbit -burst 5ms -every 200ms -bursts 25
//
// Times are CLOCK_MONOTONIC, the clock bpf_ktime_get_ns reads, so the
// sender-side 1 ms bins it reports have the same edges as netwatch's
// in-kernel bins.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "trafficgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: trafficgen send|listen [flags]")
	}
	switch args[0] {
	case "send":
		return runSend(args[1:])
	case "listen":
		return runListen(args[1:])
	default:
		return fmt.Errorf("unknown mode %q (want send or listen)", args[0])
	}
}
