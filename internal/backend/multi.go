package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Multi reads several network namespaces as one backend: a member backend of
// the planned kind is opened inside each namespace, and every interface
// carries its namespace's label (and container id, when the namespace is a
// container's). An interface is its namespace and ifindex, so two
// namespaces' lo are two rows.
//
// With a discover function (--netns all) the set follows the host: every
// rescan interval, namespaces that appeared are opened in the background
// (their interfaces show from the sample after they are attached) and those
// that are gone are closed at once — a member holds sockets in its namespace,
// which would keep a dead container's namespace alive.
type Multi struct {
	plan     Plan
	opts     Options
	discover func() ([]Netns, error)
	rescan   time.Duration
	log      *slog.Logger

	mu      sync.Mutex // guards members against the background opens
	members []*member
	opening map[nsID]bool
	failed  map[nsID]bool // dynamic namespaces that could not be opened
	ready   chan opened
	wg      sync.WaitGroup
	closed  bool

	lastScan time.Duration
	peers    peerLabels
	changed  chan struct{} // see LinksChanged
	// The merged bin stream: the next bin to return; started once the
	// first ReadBins set it.
	cursor  uint64
	started bool
}

type member struct {
	ns   Netns
	id   nsID
	be   Backend
	held stats.Bins // bins read from be but not yet returned (beyond the merged horizon)
	// stop ends the forwarding of be's link changes; stopped is closed
	// when it has ended. Nil when be does not tell.
	stop, stopped chan struct{}
}

// newMember makes a member and forwards its backend's link changes (an
// interface appeared) to the Multi's LinksChanged.
func (m *Multi) newMember(ns Netns, id nsID, be Backend) *member {
	mb := &member{ns: ns, id: id, be: be}
	n, ok := be.(interface{ LinksChanged() <-chan struct{} })
	if !ok || n.LinksChanged() == nil {
		return mb
	}
	ch := n.LinksChanged()
	mb.stop, mb.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(mb.stopped)
		for {
			select {
			case <-ch:
				m.notify()
			case <-mb.stop:
				return
			}
		}
	}()
	return mb
}

// close stops forwarding the member's link changes and closes its backend.
func (mb *member) close() error {
	if mb.stop != nil {
		close(mb.stop)
		<-mb.stopped
	}
	return mb.be.Close()
}

// LinksChanged receives a value when an interface appeared in any member
// (see sampler.LinkNotifier), or a namespace was added: a polling sampler
// reads at once to take the new interfaces' baselines.
func (m *Multi) LinksChanged() <-chan struct{} { return m.changed }

func (m *Multi) notify() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

type opened struct {
	ns  Netns
	id  nsID
	be  Backend
	err error
}

// openParallel is how many namespaces OpenMulti opens at once.
const openParallel = 4

// MultiOptions configure OpenMulti.
type MultiOptions struct {
	// Namespaces are opened before OpenMulti returns; any failure is an
	// error.
	Namespaces []Netns
	// Discover, when set, lists the namespaces to follow at run time
	// (--netns all): it is called every Rescan (default 1s).
	Discover func() ([]Netns, error)
	Rescan   time.Duration
	// Peers, when set, labels the interfaces of netwatch's own namespace
	// (a member with the zero Netns): ifindex -> labels (a veth's peer
	// namespace and container). It runs in the background when the
	// interfaces change (and 1 s and 3 s later) and every PeersEvery
	// (default 30s).
	Peers      func() (map[int]stats.Labels, error)
	PeersEvery time.Duration
	Logger     *slog.Logger
}

// OpenMulti opens the backend plan names once per namespace.
func OpenMulti(ctx context.Context, plan Plan, opts Options, mo MultiOptions) (*Multi, error) {
	m := &Multi{
		plan: plan, opts: opts, discover: mo.Discover, rescan: mo.Rescan, log: mo.Logger,
		opening: make(map[nsID]bool), failed: make(map[nsID]bool), ready: make(chan opened, 16),
		changed: make(chan struct{}, 1),
	}
	if m.rescan <= 0 {
		m.rescan = time.Second
	}
	m.peers = peerLabels{find: mo.Peers, every: mo.PeersEvery}
	if m.peers.every <= 0 {
		m.peers.every = 30 * time.Second
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	// The namespaces named, and with Discover the ones there now: opened
	// before the first read, a few at a time (loading programs is mostly
	// the kernel's verifier, which runs on as many CPUs as there are). One
	// found by Discover that cannot be read (gone since it was listed) is
	// skipped, as later; one named is an error.
	type job struct {
		ns    Netns
		id    nsID
		found bool
	}
	var jobs []job
	seen := make(map[nsID]bool)
	for _, ns := range mo.Namespaces {
		id, err := ns.id()
		if err != nil {
			return nil, err
		}
		if !seen[id] { // the same namespace named twice is read once
			seen[id] = true
			jobs = append(jobs, job{ns: ns, id: id})
		}
	}
	if m.discover != nil {
		found, err := m.discover()
		if err != nil {
			return nil, err
		}
		for _, ns := range found {
			if id, err := ns.id(); err == nil && !seen[id] {
				seen[id] = true
				jobs = append(jobs, job{ns: ns, id: id, found: true})
			}
		}
	}
	results := make([]opened, len(jobs))
	slots := make(chan struct{}, openParallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			be, err := openOne(ctx, plan, opts.single(j.ns))
			results[i] = opened{ns: j.ns, id: j.id, be: be, err: err}
		})
	}
	wg.Wait()
	var failed error
	for i, r := range results {
		switch {
		case r.err == nil:
			m.members = append(m.members, m.newMember(r.ns, r.id, r.be))
		case jobs[i].found && ctx.Err() == nil:
			m.failed[r.id] = true
			m.log.Warn("netns: cannot read a namespace; skipped", "netns", r.ns.Label, "err", oneLine(r.err))
		case failed == nil:
			failed = nsErr(r.ns, r.err)
		}
	}
	if failed != nil {
		m.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failed
	}
	m.lastScan = clock.Monotonic()
	return m, nil
}

func (m *Multi) has(id nsID) bool {
	for _, mb := range m.members {
		if mb.id == id {
			return true
		}
	}
	return false
}

// Namespaces returns the labels of the namespaces read now.
func (m *Multi) Namespaces() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.members))
	for i, mb := range m.members {
		out[i] = mb.ns.Label
	}
	return out
}

// Source implements Backend: the plan's source.
func (m *Multi) Source() stats.Source { return m.plan.Source }

// Read implements Backend: every member's interfaces, labelled, stamped with
// the first member's read time (the members are read in the same order every
// time, so each is read at the same offset from the stamp).
func (m *Multi) Read(ctx context.Context) (stats.Snapshot, error) {
	m.follow()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out stats.Snapshot
	for i, mb := range m.members {
		snap, err := mb.be.Read(ctx)
		if err != nil {
			return stats.Snapshot{}, nsErr(mb.ns, err)
		}
		m.label(mb, snap.Interfaces)
		if len(m.members) == 1 {
			return snap, nil // the snapshot is ours: labelled in place, no copy
		}
		if i == 0 {
			out.Mono, out.Wall = snap.Mono, snap.Wall
		}
		out.Interfaces = append(out.Interfaces, snap.Interfaces...)
	}
	if len(m.members) == 0 {
		r := clock.Now()
		out.Mono, out.Wall = r.Mono, r.Wall
	}
	return out, nil
}

// label sets the labels of a member's interfaces: its namespace and
// container, and for netwatch's own namespace its veths' peers.
func (m *Multi) label(mb *member, ifs []stats.InterfaceCounters) {
	var peers map[int]stats.Labels
	if !mb.ns.Set() {
		peers = m.peers.get(ifs)
	}
	for i := range ifs {
		ic := &ifs[i]
		ic.Netns, ic.Container = mb.ns.Label, mb.ns.Container
		if p, ok := peers[ic.Index]; ok {
			ic.PeerNetns = p.PeerNetns
			if ic.Container == "" {
				ic.Container = p.Container
			}
		}
	}
}

// follow takes the members opened in the background and, every rescan
// interval, starts opening new namespaces and closes those that are gone.
func (m *Multi) follow() {
	if m.discover == nil {
		return
	}
	for {
		select {
		case o := <-m.ready:
			m.adopt(o)
			continue
		default:
		}
		break
	}
	now := clock.Monotonic()
	if now-m.lastScan < m.rescan {
		return
	}
	m.lastScan = now
	found, err := m.discover()
	if err != nil {
		m.log.Warn("netns: listing namespaces failed; keeping the current set", "err", err)
		return
	}
	alive := make(map[nsID]bool, len(found))
	for _, ns := range found {
		id, err := ns.id()
		if err != nil {
			continue // gone between listing and stat
		}
		alive[id] = true
		m.mu.Lock()
		known := m.has(id) || m.opening[id] || m.failed[id]
		if !known {
			m.opening[id] = true
		}
		m.mu.Unlock()
		if !known {
			m.openLater(ns, id)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.members[:0]
	for _, mb := range m.members {
		if alive[mb.id] {
			kept = append(kept, mb)
			continue
		}
		m.log.Info("netns gone; released", "netns", mb.ns.Label)
		if err := mb.close(); err != nil {
			m.log.Warn("netns: release failed", "netns", mb.ns.Label, "err", err)
		}
	}
	clear(m.members[len(kept):])
	m.members = kept
	for id := range m.failed {
		if !alive[id] {
			delete(m.failed, id)
		}
	}
}

func (m *Multi) openLater(ns Netns, id nsID) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		be, err := openOne(context.Background(), m.plan, m.opts.single(ns))
		m.ready <- opened{ns: ns, id: id, be: be, err: err}
	}()
}

func (m *Multi) adopt(o opened) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.opening, o.id)
	if o.err != nil {
		m.failed[o.id] = true
		m.log.Warn("netns: cannot read a namespace that appeared; skipped", "netns", o.ns.Label, "err", oneLine(o.err))
		return
	}
	if m.closed {
		o.be.Close()
		return
	}
	m.log.Info("netns appeared", "netns", o.ns.Label, "container", o.ns.Container)
	m.members = append(m.members, m.newMember(o.ns, o.id, o.be))
	m.notify() // its interfaces are new
}

// peerLabels keeps the labels of the own namespace's veths, found in the
// background so that a read never waits for a scan of /proc.
type peerLabels struct {
	find  func() (map[int]stats.Labels, error)
	every time.Duration

	mu      sync.Mutex
	labels  map[int]stats.Labels
	running bool
	at      time.Duration // when the last scan started (0: none yet)
	changed time.Duration // when the interfaces last changed
	indexes uint64        // a hash of the interfaces
}

// get returns the labels found so far and starts a new scan when the
// interfaces changed (and again 1 s and 3 s later: a runtime moves a veth's
// peer into the container just after creating the pair) or the last scan
// is older than every. The first call scans before it returns.
func (p *peerLabels) get(ifs []stats.InterfaceCounters) map[int]stats.Labels {
	if p.find == nil {
		return nil
	}
	var h uint64 = 14695981039346656037
	for _, ic := range ifs {
		h = (h ^ uint64(ic.Index)) * 1099511628211
	}
	now := clock.Monotonic()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed == 0 {
		// The first read waits for the first scan: a snapshot, or the
		// first samples of a stream, must not go out unlabelled because
		// the scan was slower than the window.
		p.changed, p.indexes, p.at = now, h, now
		labels, err := p.find()
		if err != nil {
			slog.Debug("container labels: scan failed", "err", err)
		}
		p.labels = labels
		return p.labels
	}
	if h != p.indexes {
		p.changed, p.indexes = now, h
		p.at = 0 // scan now
	}
	since := now - p.changed
	due := p.at == 0 || now-p.at >= p.every ||
		(since >= time.Second && p.at-p.changed < time.Second) ||
		(since >= 3*time.Second && p.at-p.changed < 3*time.Second)
	if !p.running && due {
		p.running, p.at = true, now
		go func() {
			labels, err := p.find()
			p.mu.Lock()
			defer p.mu.Unlock()
			p.running = false
			if err != nil {
				slog.Debug("container labels: scan failed", "err", err)
				return
			}
			p.labels = labels
		}()
	}
	return p.labels
}

// Close implements Backend: closes every member (waiting for the ones being
// opened) and joins their errors.
func (m *Multi) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	var errs []error
	for waiting := true; waiting; {
		select {
		case o := <-m.ready:
			if o.err == nil {
				errs = append(errs, o.be.Close())
			}
		case <-done:
			waiting = false
		}
	}
	for len(m.ready) > 0 {
		if o := <-m.ready; o.err == nil {
			errs = append(errs, o.be.Close())
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mb := range m.members {
		if err := mb.close(); err != nil {
			errs = append(errs, nsErr(mb.ns, err))
		}
	}
	m.members = nil
	return errors.Join(errs...)
}

// Resolution implements stats.BinSource: the members' bin width (they are
// opened with the same options); 0 when the backend has no bins.
func (m *Multi) Resolution() time.Duration {
	if bs, ok := m.binSource(); ok {
		return bs.Resolution()
	}
	return 0
}

func (m *Multi) binSource() (stats.BinSource, bool) {
	if m.plan.Source.Backend != EBPF || m.opts.Resolution <= 0 {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mb := range m.members {
		bs, ok := mb.be.(stats.BinSource)
		return bs, ok
	}
	return fixedResolution(m.opts.Resolution), true
}

type fixedResolution time.Duration

func (f fixedResolution) Resolution() time.Duration { return time.Duration(f) }
func (fixedResolution) ReadBins() (stats.Bins, error) {
	return stats.Bins{}, errors.New("no namespace")
}
func (fixedResolution) BinSpan() time.Duration { return 0 }

// BinSpan implements stats.BinSource: the shortest of the members'.
func (m *Multi) BinSpan() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var span time.Duration
	for _, mb := range m.members {
		if bs, ok := mb.be.(stats.BinSource); ok {
			if s := bs.BinSpan(); s > 0 && (span == 0 || s < span) {
				span = s
			}
		}
	}
	return span
}

// SizeBins sizes every member's storage of bins within bound (each
// namespace has its own) and says what the first allows.
func (m *Multi) SizeBins(interval time.Duration, bound uint64) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var plan string
	for _, mb := range m.members {
		sz, ok := mb.be.(interface {
			SizeBins(time.Duration, uint64) (string, error)
		})
		if !ok {
			continue
		}
		p, err := sz.SizeBins(interval, bound)
		if err != nil {
			return "", nsErr(mb.ns, err)
		}
		if plan == "" {
			plan = p
			if len(m.members) > 1 {
				plan = fmt.Sprintf("%s (each of %d namespaces has its own)", p, len(m.members))
			}
		}
	}
	return plan, nil
}

// ReadBins implements stats.BinSource: the bins every member has completed,
// merged into one run. Members are read one after another, so a bin edge may
// pass between two reads: bins beyond the horizon all members have reached
// are held for the next call. A member that started counting after the
// first bin returned contributes zeros before its start (its interfaces
// were not watched then); bins before the merged stream's position are
// dropped (they belong to samples already emitted).
func (m *Multi) ReadBins() (stats.Bins, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.members) == 1 && m.members[0].held.Count == 0 {
		return m.readOne(m.members[0])
	}
	for _, mb := range m.members {
		b, err := m.readMember(mb)
		if err != nil {
			return stats.Bins{}, err
		}
		if err := appendBins(&mb.held, b); err != nil {
			return stats.Bins{}, nsErr(mb.ns, err)
		}
	}
	return m.merged(), nil
}

// merged returns the bins every member holds up to the horizon all of them
// reached, from the stream's position on, and keeps the rest.
func (m *Multi) merged() stats.Bins {
	var width time.Duration
	haveHorizon := false
	var horizon uint64
	for _, mb := range m.members {
		for i := range mb.held.Interfaces {
			mb.held.Interfaces[i].Netns = mb.ns.Label
		}
		if mb.held.Width > 0 {
			width = mb.held.Width
		}
		end := mb.held.First + uint64(mb.held.Count)
		if !m.started && (!haveHorizon || mb.held.First < m.cursor) {
			m.cursor = mb.held.First
		}
		if !haveHorizon || end < horizon {
			horizon = end
		}
		haveHorizon = true
	}
	if !haveHorizon {
		return stats.Bins{Width: m.opts.Resolution, First: m.cursor}
	}
	m.started = true
	out := stats.Bins{Width: width, First: m.cursor}
	if horizon <= m.cursor {
		return out
	}
	out.Count = int(horizon - m.cursor)
	for _, mb := range m.members {
		out.Interfaces = append(out.Interfaces, takeBins(&mb.held, m.cursor, horizon)...)
	}
	m.cursor = horizon
	return out
}

// readMember reads a member's bins.
func (m *Multi) readMember(mb *member) (stats.Bins, error) {
	bs, ok := mb.be.(stats.BinSource)
	if !ok {
		return stats.Bins{}, nsErr(mb.ns, fmt.Errorf("%s backend has no time bins", m.plan.Source.Backend))
	}
	b, err := bs.ReadBins()
	if err != nil {
		return stats.Bins{}, nsErr(mb.ns, err)
	}
	return b, nil
}

// readOne is ReadBins with one member: its bins as they are, labelled in
// place, unless they start before the merged stream's position.
func (m *Multi) readOne(mb *member) (stats.Bins, error) {
	b, err := m.readMember(mb)
	if err != nil {
		return stats.Bins{}, err
	}
	if m.started && b.First != m.cursor {
		// A member that replaced others: merge to realign.
		if err := appendBins(&mb.held, b); err != nil {
			return stats.Bins{}, nsErr(mb.ns, err)
		}
		return m.merged(), nil
	}
	for i := range b.Interfaces {
		b.Interfaces[i].Netns = mb.ns.Label
	}
	m.started, m.cursor = true, b.First+uint64(b.Count)
	return b, nil
}

// appendBins appends the run b to held; runs must follow each other. An
// interface new in b gets zeros for held's bins, one missing from b zeros
// for b's.
func appendBins(held *stats.Bins, b stats.Bins) error {
	if held.Count == 0 {
		// The run is ours (stats.BinSource): taken, not copied.
		held.First, held.Width, held.Count = b.First, b.Width, b.Count
		held.Interfaces = append(held.Interfaces[:0], b.Interfaces...)
		return nil
	}
	if b.Count == 0 {
		return nil
	}
	if b.First != held.First+uint64(held.Count) {
		return fmt.Errorf("bins out of order: have up to %d, got from %d", held.First+uint64(held.Count), b.First)
	}
	at := make(map[int]int, len(held.Interfaces))
	for i, ib := range held.Interfaces {
		at[ib.Index] = i
	}
	seen := make([]bool, len(held.Interfaces))
	for _, ib := range b.Interfaces {
		i, ok := at[ib.Index]
		if !ok {
			held.Interfaces = append(held.Interfaces, stats.InterfaceBins{Name: ib.Name, Index: ib.Index, Bins: make([]stats.Counters, held.Count)})
			seen = append(seen, false)
			i = len(held.Interfaces) - 1
		}
		seen[i] = true
		h := &held.Interfaces[i]
		h.Name = ib.Name
		if ib.Lost != nil && h.Lost == nil {
			h.Lost = make([]bool, len(h.Bins))
		}
		h.Bins = append(h.Bins, ib.Bins...)
		if h.Lost != nil {
			if ib.Lost != nil {
				h.Lost = append(h.Lost, ib.Lost...)
			} else {
				h.Lost = append(h.Lost, make([]bool, b.Count)...)
			}
		}
	}
	for i := range held.Interfaces {
		if !seen[i] {
			h := &held.Interfaces[i]
			h.Bins = append(h.Bins, make([]stats.Counters, b.Count)...)
			if h.Lost != nil {
				h.Lost = append(h.Lost, make([]bool, b.Count)...)
			}
		}
	}
	held.Count += b.Count
	return nil
}

// takeBins removes bins [from, to) from held and returns them, each
// interface's run exactly to-from long: zeros where held has no bins yet
// (the member started later); held's bins before from are dropped.
func takeBins(held *stats.Bins, from, to uint64) []stats.InterfaceBins {
	n := int(to - from)
	out := make([]stats.InterfaceBins, 0, len(held.Interfaces))
	end := held.First + uint64(held.Count)
	lo := max(from, held.First) // first bin held has in range
	hi := min(to, end)
	whole := lo == from && hi == to // held has every bin of the range
	for _, h := range held.Interfaces {
		ib := stats.InterfaceBins{Name: h.Name, Index: h.Index, Netns: h.Netns}
		if whole {
			// Handed out as they are (capacity cut, so an append by the
			// caller cannot reach the bins held back).
			a, z := lo-held.First, hi-held.First
			ib.Bins = h.Bins[a:z:z]
			if h.Lost != nil {
				ib.Lost = h.Lost[a:z:z]
			}
			out = append(out, ib)
			continue
		}
		ib.Bins = make([]stats.Counters, n)
		if h.Lost != nil {
			ib.Lost = make([]bool, n)
		}
		if lo < hi {
			copy(ib.Bins[lo-from:], h.Bins[lo-held.First:hi-held.First])
			if h.Lost != nil {
				copy(ib.Lost[lo-from:], h.Lost[lo-held.First:hi-held.First])
			}
		}
		out = append(out, ib)
	}
	// Keep [to, end).
	if to >= end {
		held.First, held.Count = max(end, to), 0
		held.Interfaces = held.Interfaces[:0]
		return out
	}
	keep := int(end - max(to, held.First))
	skip := held.Count - keep
	for i := range held.Interfaces {
		h := &held.Interfaces[i]
		h.Bins = append(h.Bins[:0:0], h.Bins[skip:]...)
		if h.Lost != nil {
			h.Lost = append(h.Lost[:0:0], h.Lost[skip:]...)
		}
	}
	held.First += uint64(skip)
	held.Count = keep
	return out
}

// nsErr prefixes err with the namespace it happened in (none for
// netwatch's own).
func nsErr(ns Netns, err error) error {
	if !ns.Set() {
		return err
	}
	return fmt.Errorf("netns %s: %w", ns.Label, err)
}
