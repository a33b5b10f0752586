package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// ListenReport is printed when the listener stops (SIGINT or SIGTERM).
type ListenReport struct {
	Addr         string `json:"addr"`
	Datagrams    int64  `json:"datagrams"`
	PayloadBytes int64  `json:"payload_bytes"`
}

// runListen receives and discards datagrams so the sender's traffic has a
// live destination (no ICMP port unreachable on the link). It prints one
// JSON line when ready and one with its counts when stopped.
func runListen(args []string) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	addr := fs.String("addr", "", "host:port to listen on (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" {
		return errors.New("-addr is required")
	}
	conn, err := net.ListenPacket("udp4", *addr)
	if err != nil {
		return fmt.Errorf("listen: %s: %w", *addr, err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		// A large buffer keeps bursts from being dropped at the socket
		// (they are counted on the link either way).
		_ = uc.SetReadBuffer(8 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()

	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(map[string]string{"listening": conn.LocalAddr().String()}); err != nil {
		return fmt.Errorf("listen: write: %w", err)
	}
	rep := ListenReport{Addr: conn.LocalAddr().String()}
	buf := make([]byte, 65536)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("listen: read: %w", err)
		}
		rep.Datagrams++
		rep.PayloadBytes += int64(n)
	}
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("listen: write report: %w", err)
	}
	return nil
}
