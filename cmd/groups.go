package cmd

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/verdict"
)

// peekPackets bounds the look at a file's start that orders rotated files
// and tells which side a file was captured on: enough for a few hundred
// handshakes, a blink next to reading the file.
const peekPackets = 20000

// glance is what the start of a capture file says about it.
type glance struct {
	name  string
	first time.Time // first record; zero when unknown (stdin, unreadable)
	// seen is the last record's time the peek read: the file runs at
	// least until then.
	seen    time.Time
	vantage verdict.Vantage
	// host is the capturing host: the address most of the undecremented
	// packets (sent there) come from. Rotated files of one capture share
	// it, even those too small to hold a whole attempt.
	host netip.Addr
	// merged: many attempts show their packets twice, undecremented and
	// with hops lost, and servers' answers as sent: the file holds both
	// ends' captures.
	merged   bool
	attempts int
}

// mergedPeekAttempts is enough attempts to tell a merged file (in one,
// nearly every attempt is echoed): when that is all a peek is for, it
// stops there rather than read peekPackets.
const mergedPeekAttempts = 256

// openToPeek opens a capture to look at before it is read, or returns nil:
// only regular files, as standard input, a FIFO or a device can be read
// once, and opening a FIFO with no writer would block. Errors are left for
// the real read, which reports them with their position.
func openToPeek(name string) *capture.Reader {
	if st, err := os.Stat(name); name == "-" || err != nil || !st.Mode().IsRegular() {
		return nil
	}
	rd, err := capture.Open(name)
	if err != nil {
		return nil
	}
	return rd
}

// peek reads the start of a file: peekPackets, or until enough attempts
// were handed on (0: no such bound). Errors are left for the real read,
// which reports them with their position.
func peek(ctx context.Context, name string, fcfg flows.Config, enough int) glance {
	g := glance{name: name, vantage: verdict.VantageUnknown}
	rd := openToPeek(name)
	if rd == nil {
		return g
	}
	defer rd.Close()
	votes := map[verdict.Vantage]int{}
	hosts := map[netip.Addr]int{}
	attempts, echoed := 0, 0
	// The same SYN (ISN) seen undecremented and with hops lost, under two
	// 4-tuples: both ends' captures of a NATed connection.
	synHops := map[uint32]bool{}
	tr := flows.NewTracker(flows.Config{Idle: fcfg.Idle}, func(a *flows.Attempt) {
		attempts++
		zero := verdict.Hops(a.SYN.TTL) == 0
		if z, ok := synHops[a.ISN]; ok && z != zero {
			echoed += 2
		}
		synHops[a.ISN] = zero
		if a.Echoes > 0 {
			echoed++
		}
		votes[verdict.InferVantage(a)]++
	})
	// SYN-ACKs, and those seen as sent: a server's capture holds its own.
	synacks, synacksSent := 0, 0
	// Handshake packets a capture records which way they crossed its
	// host, by ISN, seen both ways. Their TTLs tell a host passing them on
	// from two hosts' captures merged, whatever the times: a router sends
	// on what it received with one hop fewer (passedOn), while the sender's
	// copy of a packet that crossed a router to its receiver has one hop
	// more (crossed). A router's queue may hold a packet for seconds
	// (bufferbloat on its way out), and two hosts' clocks may be minutes
	// apart. With the TTLs equal (a bridge; two hosts on one link), the
	// order is all there is: a host passing packets on records each
	// received, then sent, on one clock; a sender's capture and its
	// receiver's merged hold it sent, then received (outThenIn), or, their
	// clocks apart, one direction's the other way round.
	type handshakeKey struct {
		isn    uint32
		synack bool
	}
	type handshakeDirs struct {
		first         capture.Direction
		inTTL, outTTL uint8
		told          bool
	}
	dirs := map[handshakeKey]*handshakeDirs{}
	passedOn, crossed, outThenIn := 0, 0, 0
	var p capture.Packet
	for n := 0; n < peekPackets && ctx.Err() == nil && (enough == 0 || attempts < enough); n++ {
		if err := rd.Next(&p); err != nil {
			break
		}
		if p.Kind == capture.KindTCP {
			sent := verdict.Hops(p.TTL) == 0
			if sent {
				hosts[p.Src.Addr()]++
			}
			if p.Flags.Has(capture.FlagSYN | capture.FlagACK) {
				synacks++
				if sent {
					synacksSent++
				}
			}
			if p.Dir != capture.DirUnknown && p.Flags.Has(capture.FlagSYN) && len(dirs) < mergedPeekAttempts*4 {
				k := handshakeKey{p.Seq, p.Flags.Has(capture.FlagACK)}
				d := dirs[k]
				if d == nil {
					d = &handshakeDirs{first: p.Dir}
					dirs[k] = d
				}
				if p.Dir == capture.DirIn && d.inTTL == 0 {
					d.inTTL = p.TTL
				} else if p.Dir == capture.DirOut && d.outTTL == 0 {
					d.outTTL = p.TTL
				}
				if !d.told && d.inTTL != 0 && d.outTTL != 0 { // once a packet
					d.told = true
					switch {
					case d.inTTL > d.outTTL:
						passedOn++
					case d.outTTL > d.inTTL:
						crossed++
					case d.first == capture.DirOut:
						outThenIn++
					}
				}
			}
		}
		tr.Observe(&p)
	}
	tr.Finish()
	g.first, g.seen = rd.Stats().First, rd.Stats().Last
	g.vantage = majority(votes)
	g.host = mostOf(hosts)
	// SYNs seen as sent and again hops later, but the servers' answers
	// never as sent: no server's capture is in the file, but one taken on
	// a router next to the clients (tcpdump -i any), which sees what it
	// forwards twice. Split, its far side would pass for the servers'.
	// A file showing packets passed on is a router's capture, whatever
	// else it shows: a packet its queue held past the tracker's wait for
	// the copy sent on passes for a resent SYN hops later (echoed).
	merged := crossed + outThenIn
	g.merged = passedOn == 0 && echoed > 0 && echoed*4 >= attempts && (synacks == 0 || synacksSent > 0) ||
		merged > passedOn && merged*4 >= attempts
	g.attempts = attempts
	return g
}

// votesFor reports whether the file held attempts at all (a vantage
// could have been told).
func votesFor(g glance) bool { return g.attempts > 0 }

// vantageVotes counts attempts by vantage, on the tracking goroutine's
// path: an array, not a map. InferVantage and flags give only these three.
type vantageVotes [3]int

var votedVantages = [3]verdict.Vantage{verdict.VantageClient, verdict.VantageServer, verdict.VantageUnknown}

func (vv *vantageVotes) add(v verdict.Vantage) {
	switch v {
	case verdict.VantageClient:
		vv[0]++
	case verdict.VantageServer:
		vv[1]++
	default:
		vv[2]++
	}
}

// counts is the votes as majority and vantageText take them.
func (vv *vantageVotes) counts() map[verdict.Vantage]int {
	m := map[verdict.Vantage]int{}
	for i, n := range vv {
		if n > 0 {
			m[votedVantages[i]] = n
		}
	}
	return m
}

// majority is the vantage two thirds of the votes agree on, else unknown.
func majority(votes map[verdict.Vantage]int) verdict.Vantage {
	best, n, total := verdict.VantageUnknown, 0, 0
	for v, k := range votes {
		total += k
		if k > n {
			best, n = v, k
		}
	}
	if n == 0 || n*3 < total*2 {
		return verdict.VantageUnknown
	}
	return best
}

func mostOf(m map[netip.Addr]int) netip.Addr {
	var best netip.Addr
	n := 0
	for a, k := range m {
		if k > n || (k == n && a.Less(best)) {
			best, n = a, k
		}
	}
	return best
}

// rotations splits the files of one host into runs that follow on in
// time: a rotated file starts after the one before it ends. Files that
// overlap (two captures taken at once on one host, or on one link) are
// not rotations of each other.
func rotations(gl []glance) [][]glance {
	sorted := slices.Clone(gl)
	slices.SortStableFunc(sorted, func(a, b glance) int { return a.first.Compare(b.first) })
	var runs [][]glance
	for _, g := range sorted {
		placed := false
		for i, run := range runs {
			if last := run[len(run)-1]; !g.first.Before(last.seen) {
				runs[i] = append(run, g)
				placed = true
				break
			}
		}
		if !placed {
			runs = append(runs, []glance{g})
		}
	}
	// Keep each run in the order given, for inTimeOrder to report.
	for _, run := range runs {
		slices.SortStableFunc(run, func(a, b glance) int { return slices.Index(gl, a) - slices.Index(gl, b) })
	}
	return runs
}

// inTimeOrder orders the files of one capture by their first packet, as
// rotated files must be read (tcpdump -C names sort x10 before x2). It
// says so when that differs from the order given.
func inTimeOrder(gl []glance) ([]string, string) {
	sorted := slices.Clone(gl)
	slices.SortStableFunc(sorted, func(a, b glance) int {
		if a.first.IsZero() || b.first.IsZero() {
			return 0
		}
		return a.first.Compare(b.first)
	})
	names := make([]string, len(sorted))
	moved := false
	for i, g := range sorted {
		names[i] = g.name
		moved = moved || g.name != gl[i].name
	}
	if !moved {
		return names, ""
	}
	return names, fmt.Sprintf("read %s in time order, not as given (%s)", strings.Join(names, ", "), strings.Join(names0(gl), ", "))
}

func names0(gl []glance) []string {
	out := make([]string, len(gl))
	for i, g := range gl {
		out[i] = g.name
	}
	return out
}

// planGroups decides which files are read as one capture. --client and
// --server files are one capture each, in time order. Plain files are
// grouped by what their start shows: files of one side of one host are
// rotations of one capture (read in time order through one tracker, so an
// attempt crossing a file boundary stays whole); a file whose side the
// TTLs cannot tell stands alone.
//
// A file given as both --client and --server is split into its two ends
// when it holds both (a mergecap of the two captures); one that holds one
// end only is an error: joined with itself, every packet would seem to
// arrive where it was sent.
func planGroups(ctx context.Context, cfg *analyzeConfig) ([]group, []string, error) {
	var gs []group
	var notes []string
	clientFiles, serverFiles := cfg.clientFiles, cfg.serverFiles
	if f, ok := onBothSides(clientFiles, serverFiles); ok {
		if len(clientFiles) > 1 || len(serverFiles) > 1 || !peek(ctx, f, cfg.flows, mergedPeekAttempts).merged {
			return nil, nil, fmt.Errorf("analyze: %s is given as both --client and --server, but holds one end's capture: give the capture taken at each end, or this one alone", f)
		}
		notes = append(notes, mergedNote(f))
		gs = append(gs, group{files: []string{f}, vantage: verdict.VantageClient, split: true},
			group{files: []string{f}, vantage: verdict.VantageServer, split: true})
		clientFiles, serverFiles = nil, nil
	}
	forced := func(files []string, v verdict.Vantage) {
		if len(files) == 0 {
			return
		}
		gl := make([]glance, len(files))
		for i, f := range files {
			gl[i] = glance{name: f}
			if len(files) > 1 {
				gl[i] = peek(ctx, f, cfg.flows, 0)
			}
		}
		names, note := inTimeOrder(gl)
		if note != "" {
			notes = append(notes, note)
		}
		gs = append(gs, group{files: names, vantage: v})
	}
	forced(clientFiles, verdict.VantageClient)
	forced(serverFiles, verdict.VantageServer)
	if len(cfg.autoFiles) == 1 {
		f := cfg.autoFiles[0]
		if g := peek(ctx, f, cfg.flows, mergedPeekAttempts); g.merged {
			notes = append(notes, mergedNote(f))
			return append(gs, group{files: []string{f}, vantage: verdict.VantageClient, split: true},
				group{files: []string{f}, vantage: verdict.VantageServer, split: true}), notes, nil
		}
		return append(gs, group{files: cfg.autoFiles}), notes, nil
	}
	buckets := map[netip.Addr][]glance{}
	var order []netip.Addr
	for _, f := range cfg.autoFiles {
		g := peek(ctx, f, cfg.flows, 0)
		if g.merged {
			notes = append(notes, mergedNote(f))
			gs = append(gs, group{files: []string{f}, vantage: verdict.VantageClient, split: true},
				group{files: []string{f}, vantage: verdict.VantageServer, split: true})
			continue
		}
		if g.vantage == verdict.VantageUnknown && g.host.IsValid() && votesFor(g) {
			notes = append(notes, fmt.Sprintf("%s: the TTLs cannot tell which end this capture was taken at (client and server on one link, or a tap in the middle); give it with --client or --server to join it with the other end's capture", f))
		}
		if !g.host.IsValid() || f == "-" {
			gs = append(gs, group{files: []string{f}})
			continue
		}
		if _, ok := buckets[g.host]; !ok {
			order = append(order, g.host)
		}
		buckets[g.host] = append(buckets[g.host], g)
	}
	for _, host := range order {
		for _, run := range rotations(buckets[host]) {
			names, note := inTimeOrder(run)
			if len(run) > 1 {
				notes = append(notes, fmt.Sprintf("%s look like rotated files of one capture taken on %s: read as one", strings.Join(names, ", "), host))
				if note != "" {
					notes = append(notes, note)
				}
			}
			gs = append(gs, group{files: names})
		}
	}
	// Keep the order the user gave, by each group's first file.
	pos := map[string]int{}
	for i, f := range slices.Concat(cfg.clientFiles, cfg.serverFiles, cfg.autoFiles) {
		if _, ok := pos[f]; !ok {
			pos[f] = i
		}
	}
	slices.SortStableFunc(gs, func(a, b group) int { return cmp.Compare(minPos(a.files, pos), minPos(b.files, pos)) })
	return gs, notes, nil
}

// onBothSides returns a file of client that server names too, by path or
// as the same file under another name.
func onBothSides(client, server []string) (string, bool) {
	for _, c := range client {
		ci, cerr := os.Stat(c)
		for _, s := range server {
			if c == s {
				return c, true
			}
			if si, err := os.Stat(s); cerr == nil && err == nil && ci.Mode().IsRegular() && os.SameFile(ci, si) {
				return c, true
			}
		}
	}
	return "", false
}

func mergedNote(f string) string {
	return fmt.Sprintf("%s holds both ends' captures (each packet twice: as sent, and as received, hops later or so recorded; mergecap of a client and a server capture?): split by TTL and direction into its client-side and server-side packets and joined", f)
}

func minPos(files []string, pos map[string]int) int {
	m := -1
	for _, f := range files {
		if p := pos[f]; m < 0 || p < m {
			m = p
		}
	}
	return m
}
