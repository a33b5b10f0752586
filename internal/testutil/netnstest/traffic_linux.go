//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Header sizes of the IPv4 test traffic as tc and XDP see it (skb->len at
// tc includes the Ethernet header).
const (
	EthHeaderLen  = 14
	IPv4HeaderLen = 20
	UDPHeaderLen  = 8
)

// UDPFrameLen is the length of the Ethernet frame carrying one IPv4 UDP
// datagram of payload bytes: what the kernel's tx_bytes/rx_bytes of a veth
// and a tc or XDP program count per datagram.
func UDPFrameLen(payload int) int { return EthHeaderLen + IPv4HeaderLen + UDPHeaderLen + payload }

// MaxUDPPayload is the largest payload SendUDP sends in one frame on p.
func (p *Pair) MaxUDPPayload() int { return p.MTU - IPv4HeaderLen - UDPHeaderLen }

// udpWindow bounds the datagrams in flight so that no socket or backlog
// queue overflows on a busy machine: SendUDP must deliver exactly n.
const udpWindow = 32

// stallTimeout is how long the helpers wait for progress before failing.
const stallTimeout = 10 * time.Second

func other(s Side) Side {
	if s == A {
		return B
	}
	return A
}

// SendUDP sends exactly n datagrams of payload bytes from side from to the
// other side, where a socket listens (so no ICMP comes back), and returns
// once all n were received. Each datagram is one frame of
// UDPFrameLen(payload) bytes; payload must be at most p.MaxUDPPayload(). It
// fails t if a datagram is lost or progress stalls for 10 s.
func (p *Pair) SendUDP(t testing.TB, from Side, n, payload int) {
	t.Helper()
	if err := p.sendUDP(from, n, payload); err != nil {
		t.Fatal(err)
	}
}

func (p *Pair) sendUDP(from Side, n, payload int) error {
	if n < 0 || payload < 0 || payload > p.MaxUDPPayload() {
		return fmt.Errorf("netnstest: SendUDP: n=%d payload=%d (want n >= 0, 0 <= payload <= %d)", n, payload, p.MaxUDPPayload())
	}
	to := other(from)
	var rx, tx *net.UDPConn
	err := p.NS(to).Do(func() (err error) {
		rx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.Addr(to).AsSlice()})
		return err
	})
	if err != nil {
		return fmt.Errorf("netnstest: SendUDP: listen: %w", err)
	}
	defer rx.Close()
	err = p.NS(from).Do(func() (err error) {
		tx, err = net.DialUDP("udp4", &net.UDPAddr{IP: p.Addr(from).AsSlice()}, rx.LocalAddr().(*net.UDPAddr))
		return err
	})
	if err != nil {
		return fmt.Errorf("netnstest: SendUDP: dial: %w", err)
	}
	defer tx.Close()

	acks := make(chan struct{}, udpWindow)
	rxErr := make(chan error, 1)
	go func() { rxErr <- receiveUDP(rx, n, payload, acks) }()

	buf := make([]byte, payload)
	for i := range buf {
		buf[i] = byte(i)
	}
	// The receiver sends one ack per datagram into the buffered acks and
	// nil or an error into rxErr when it ends; after a nil all acks are
	// already buffered.
	var rxDone bool
	waitAck := func(sent int) error {
		timeout := time.NewTimer(stallTimeout)
		defer timeout.Stop()
		for {
			select {
			case <-acks:
				return nil
			case err := <-rxErr:
				if err != nil {
					return fmt.Errorf("netnstest: SendUDP: after %d sent: %w", sent, err)
				}
				rxDone, rxErr = true, nil
			case <-timeout.C:
				rx.Close()
				return fmt.Errorf("netnstest: SendUDP: no datagram received for %s (sent %d of %d)", stallTimeout, sent, n)
			}
		}
	}
	for i := range n {
		if i >= udpWindow {
			if err := waitAck(i); err != nil {
				return err
			}
		}
		if _, err := tx.Write(buf); err != nil {
			return fmt.Errorf("netnstest: SendUDP: send %d of %d: %w", i+1, n, err)
		}
	}
	for range min(n, udpWindow) {
		if err := waitAck(n); err != nil {
			return err
		}
	}
	if rxDone {
		return nil
	}
	return <-rxErr
}

// receiveUDP reads n datagrams of size bytes, sending one ack each.
func receiveUDP(c *net.UDPConn, n, size int, acks chan<- struct{}) error {
	buf := make([]byte, size+1)
	for i := range n {
		got, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("received %d of %d: %w", i, n, err)
		}
		if got != size {
			return fmt.Errorf("datagram %d: %d bytes, want %d", i+1, got, size)
		}
		acks <- struct{}{}
	}
	return nil
}

// TCPTransfer moves nbytes over one TCP connection from side from to a
// listener on the other side and returns once the connection is fully
// closed on both ends: the last packet (the sender's ACK of the receiver's
// FIN) has been processed by the receiver, and no timer of the connection
// sends anything afterwards. It fails t on any error or a stall of 10 s.
//
// Packet counts depend on offloads: with p.SetOffloads(false) no segment
// exceeds the MTU.
func (p *Pair) TCPTransfer(t testing.TB, from Side, nbytes int) {
	t.Helper()
	if err := p.tcpTransfer(from, nbytes); err != nil {
		t.Fatal(err)
	}
}

func (p *Pair) tcpTransfer(from Side, nbytes int) error {
	if nbytes < 0 {
		return fmt.Errorf("netnstest: TCPTransfer: nbytes=%d", nbytes)
	}
	to := other(from)
	var ln *net.TCPListener
	err := p.NS(to).Do(func() (err error) {
		ln, err = net.ListenTCP("tcp4", &net.TCPAddr{IP: p.Addr(to).AsSlice()})
		return err
	})
	if err != nil {
		return fmt.Errorf("netnstest: TCPTransfer: listen: %w", err)
	}
	defer ln.Close()
	deadline := time.Now().Add(stallTimeout + time.Duration(nbytes)*time.Microsecond)
	if err := ln.SetDeadline(deadline); err != nil {
		return fmt.Errorf("netnstest: TCPTransfer: %w", err)
	}

	rxErr := make(chan error, 1)
	go func() { rxErr <- receiveTCP(ln, nbytes, deadline) }()

	var c *net.TCPConn
	err = p.NS(from).Do(func() error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: p.Addr(from).AsSlice()}, Deadline: deadline}
		conn, err := d.Dial("tcp4", ln.Addr().String())
		if err == nil {
			c = conn.(*net.TCPConn)
		}
		return err
	})
	if err != nil {
		return errors.Join(fmt.Errorf("netnstest: TCPTransfer: dial: %w", err), <-rxErr)
	}
	defer c.Close()
	if err := sendTCP(c, nbytes, deadline); err != nil {
		return errors.Join(fmt.Errorf("netnstest: TCPTransfer: %w", err), <-rxErr)
	}
	if err := <-rxErr; err != nil {
		return fmt.Errorf("netnstest: TCPTransfer: receiver: %w", err)
	}
	return nil
}

// sendTCP writes nbytes, half-closes (FIN) and waits for the peer's FIN.
func sendTCP(c *net.TCPConn, nbytes int, deadline time.Time) error {
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for left := nbytes; left > 0; {
		w, err := c.Write(buf[:min(left, len(buf))])
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		left -= w
	}
	if err := c.CloseWrite(); err != nil {
		return fmt.Errorf("send FIN: %w", err)
	}
	if extra, err := io.Copy(io.Discard, c); err != nil || extra != 0 {
		return fmt.Errorf("wait for peer FIN: %d unexpected bytes, %v", extra, err)
	}
	return nil
}

// receiveTCP accepts one connection, reads exactly nbytes up to EOF,
// answers with its own FIN and waits until the socket is TCP_CLOSE, i.e.
// the final ACK arrived.
func receiveTCP(ln *net.TCPListener, nbytes int, deadline time.Time) error {
	c, err := ln.AcceptTCP()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	got, err := io.Copy(io.Discard, c)
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", got, err)
	}
	if got != int64(nbytes) {
		return fmt.Errorf("received %d bytes, want %d", got, nbytes)
	}
	if err := c.CloseWrite(); err != nil {
		return fmt.Errorf("send FIN: %w", err)
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	for {
		state, err := tcpState(raw)
		if err != nil {
			return err
		}
		if state == tcpClose {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("connection still in TCP state %d at deadline", state)
		}
		time.Sleep(time.Millisecond)
	}
}

// tcpClose is TCP_CLOSE of include/net/tcp_states.h.
const tcpClose = 7

func tcpState(raw syscall.RawConn) (uint8, error) {
	var info *unix.TCPInfo
	var serr error
	err := raw.Control(func(fd uintptr) {
		info, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if err = errors.Join(err, serr); err != nil {
		return 0, fmt.Errorf("TCP_INFO: %w", err)
	}
	return info.State, nil
}
