package capgen

import (
	"container/heap"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Kind is one way a generated connection goes, as the client lives it.
type Kind int

// The kinds of a realistic mix, each with the verdict synpath must give
// it from the client's capture (Verdict).
const (
	KindEstablished Kind = iota // request, 3-segment reply, FIN close
	KindRefused                 // the server's RST answers the SYN
	KindTimeout                 // SYNs lost on the way out, resent 3 to 6 times
	KindReturnDrop              // the server answers every SYN; its SYN-ACKs are lost on the way back
	KindHalfOpen                // the server's accept queue is full: SYN-ACK resent, request never acknowledged
	KindStalled                 // the request is acknowledged, no reply; the client gives up after 5 s
	KindReset                   // the server resets the connection after the request
	KindUnreachable             // a router answers the SYN with ICMP host unreachable
	KindStale                   // the server answers each SYN with an earlier connection's ACK; the client's RSTs are lost on the way out
	NumKinds
)

var kindNames = [NumKinds]string{"established", "refused", "timeout", "return-drop", "half-open", "stalled", "reset", "unreachable", "stale-connection"}

// String names the kind.
func (k Kind) String() string { return kindNames[k] }

// Verdict is the verdict a client-side capture of k gets.
func (k Kind) Verdict() string {
	switch k {
	case KindReturnDrop, KindStale:
		return "timeout"
	case KindUnreachable:
		return "unreachable"
	}
	return kindNames[k]
}

// mixWeights: percent of connections of each kind.
var mixWeights = [NumKinds]int{59, 6, 6, 5, 5, 6, 6, 6, 1}

// MixConfig sets the size and pace of a realistic mix.
type MixConfig struct {
	N    int     // connections
	Rate float64 // new connections per second, on average (Poisson arrivals)
	Seed uint64  // the same seed gives the same bytes
}

// Truth is what a generated mix holds.
type Truth struct {
	Connections   int
	ClientPackets int
	ServerPackets int
	Kinds         [NumKinds]int
}

// Verdicts counts the client-side verdicts synpath must give.
func (t Truth) Verdicts() map[string]int {
	m := map[string]int{}
	for k, n := range t.Kinds {
		if n > 0 {
			m[Kind(k).Verdict()] += n
		}
	}
	return m
}

// WriteMix writes a client-side capture of a realistic mix of short
// connections, failures of every kind among them, to client and, when
// server is not nil, the same connections as the server host captured
// them (TTLs one hop apart, packets lost on the way absent). Client
// addresses are 198.51.100.0/24 and 192.0.2.0/24 (many ports each), servers
// 203.0.113.1-40, the router 192.0.2.254. It keeps only the connections
// still in progress in memory.
func WriteMix(client, server io.Writer, cfg MixConfig) (Truth, error) {
	m := mixGen{rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), buf: gopacket.NewSerializeBuffer(), inner: gopacket.NewSerializeBuffer()}
	m.eth = layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	sides := []*mixSide{{w: pcapgo.NewWriter(client), atClient: true}}
	if server != nil {
		sides = append(sides, &mixSide{w: pcapgo.NewWriter(server)})
	}
	for _, s := range sides {
		if err := s.w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			return m.truth, err
		}
	}
	rate := cfg.Rate
	if rate <= 0 {
		rate = 1000
	}
	base := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	var at time.Duration
	for i := 0; i < cfg.N; i++ {
		at += time.Duration(m.rng.ExpFloat64() / rate * float64(time.Second))
		// Everything before this start is final: no later connection
		// has a packet before it starts.
		for _, s := range sides {
			if err := m.flush(s, base, at); err != nil {
				return m.truth, err
			}
		}
		m.conn(i, at, sides)
	}
	for _, s := range sides {
		if err := m.flush(s, base, math.MaxInt64); err != nil {
			return m.truth, err
		}
	}
	m.truth.Connections = cfg.N
	return m.truth, nil
}

type mixPkt struct {
	at         time.Duration // on this side's clock, since the capture's base
	order      uint64        // ties keep generation order
	src, dst   [4]byte
	sport      uint16
	dport      uint16
	seq, ack   uint32
	flags      uint8
	ttl        uint8
	ipid       uint16
	payload    uint16
	text       uint8 // what the payload starts with: textNone, textRequest, textReply
	icmpQuote  bool  // an ICMP host unreachable quoting the SYN described by the other fields
	icmpFrom   [4]byte
	icmpTTL    uint8
	fromClient bool
}

type pktHeap []mixPkt

func (h pktHeap) Len() int { return len(h) }
func (h pktHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].order < h[j].order
}
func (h pktHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pktHeap) Push(x any)   { *h = append(*h, x.(mixPkt)) }
func (h *pktHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

type mixSide struct {
	w        *pcapgo.Writer
	atClient bool
	pending  pktHeap
}

type mixGen struct {
	rng        *rand.Rand
	buf, inner gopacket.SerializeBuffer
	eth        layers.Ethernet
	order      uint64
	truth      Truth
	payload    [1500]byte
}

const (
	request = "GET /api/v1/items HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
	reply   = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3300\r\n\r\n"
)

const (
	textNone = iota
	textRequest
	textReply
)

// step is one packet of a connection's script, on the client's clock.
type step struct {
	at              time.Duration
	fromClient      bool
	flags           uint8
	seq, ack        uint32
	n               int
	atClient, atSrv bool
	icmp            bool
	text            uint8
}

func (m *mixGen) pickKind() Kind {
	r := m.rng.IntN(100)
	for k, w := range mixWeights {
		if r < w {
			return Kind(k)
		}
		r -= w
	}
	return KindEstablished
}

func (m *mixGen) conn(i int, start time.Duration, sides []*mixSide) {
	k := m.pickKind()
	m.truth.Kinds[k]++
	var cip, sip [4]byte
	if i%2 == 0 {
		cip = [4]byte{198, 51, 100, byte(1 + i/2%250)}
	} else {
		cip = [4]byte{192, 0, 2, byte(1 + i/2%250)}
	}
	cport := uint16(1024 + i/500%64000)
	sip = [4]byte{203, 0, 113, byte(1 + m.rng.IntN(40))}
	sport := uint16(80)
	if k == KindRefused {
		sport = 8080
	}
	isn, sisn := m.rng.Uint32(), m.rng.Uint32()
	rtt := time.Duration(2+m.rng.IntN(38)) * time.Millisecond
	think := time.Duration(1+m.rng.IntN(20)) * time.Millisecond
	const gap = 50 * time.Microsecond
	req := uint32(len(request))

	var s []step
	add := func(at time.Duration, fromClient bool, flags uint8, seq, ack uint32, n int) *step {
		s = append(s, step{at: at, fromClient: fromClient, flags: flags, seq: seq, ack: ack, n: n, atClient: true, atSrv: true})
		return &s[len(s)-1]
	}
	synRetries := func(count int) []time.Duration {
		ts := []time.Duration{0}
		for j := 1; j < count; j++ {
			ts = append(ts, time.Duration(1<<j-1)*time.Second)
		}
		return ts
	}
	handshake := func() time.Duration {
		add(0, true, syn, isn, 0, 0)
		add(rtt, false, syn|ack, sisn, isn+1, 0)
		add(rtt+gap, true, ack, isn+1, sisn+1, 0)
		add(rtt+2*gap, true, ack|psh, isn+1, sisn+1, int(req)).text = textRequest
		return rtt + 2*gap
	}
	switch k {
	case KindEstablished:
		t := handshake() + rtt + think
		sent := uint32(0)
		for j, n := range []int{1400, 1400, 600} {
			st := add(t, false, ack|psh, sisn+1+sent, isn+1+req, n)
			if j == 0 {
				st.text = textReply
			}
			sent += uint32(n)
			t += 100 * time.Microsecond
			if j >= 1 {
				add(t, true, ack, isn+1+req, sisn+1+sent, 0)
				t += gap
			}
		}
		t += time.Millisecond
		add(t, true, fin|ack, isn+1+req, sisn+1+sent, 0)
		add(t+rtt, false, fin|ack, sisn+1+sent, isn+2+req, 0)
		add(t+rtt+gap, true, ack, isn+2+req, sisn+2+sent, 0)
	case KindRefused:
		add(0, true, syn, isn, 0, 0)
		add(rtt, false, rst|ack, 0, isn+1, 0)
	case KindTimeout:
		for _, t := range synRetries(3 + m.rng.IntN(4)) {
			add(t, true, syn, isn, 0, 0).atSrv = false
		}
	case KindReturnDrop:
		for _, t := range synRetries(3 + m.rng.IntN(4)) {
			add(t, true, syn, isn, 0, 0)
			add(t+rtt, false, syn|ack, sisn, isn+1, 0).atClient = false
		}
	case KindHalfOpen:
		t := handshake()
		for _, rto := range []time.Duration{200, 600, 1400} {
			add(t+rto*time.Millisecond, true, ack|psh, isn+1, sisn+1, int(req)).text = textRequest
		}
		add(rtt+time.Second, false, syn|ack, sisn, isn+1, 0)
		sortSteps(s)
	case KindStalled:
		t := handshake()
		add(t+rtt, false, ack, sisn+1, isn+1+req, 0)
		add(t+5*time.Second, true, fin|ack, isn+1+req, sisn+1, 0)
		add(t+5*time.Second+rtt, false, ack, sisn+1, isn+2+req, 0)
	case KindReset:
		t := handshake()
		add(t+rtt+think, false, rst|ack, sisn+1, isn+1+req, 0)
	case KindStale:
		// The earlier connection's numbers are behind this SYN's, as a
		// client's ISN clock makes them.
		old := isn - 1<<20 - m.rng.Uint32N(1<<20)
		for _, t := range synRetries(3 + m.rng.IntN(4)) {
			add(t, true, syn, isn, 0, 0)
			add(t+rtt, false, ack, sisn, old, 0)
			add(t+rtt+gap, true, rst, old, 0, 0).atSrv = false
		}
	case KindUnreachable:
		add(0, true, syn, isn, 0, 0).atSrv = false
		st := add(rtt/4, false, 0, isn, 0, 0)
		st.icmp, st.atSrv = true, false
	}

	cid, sid := uint16(m.rng.Uint32()), uint16(m.rng.Uint32())
	d := rtt / 2
	for _, st := range s {
		p := mixPkt{src: cip, dst: sip, sport: cport, dport: sport, seq: st.seq, ack: st.ack, flags: st.flags, payload: uint16(st.n), text: st.text, fromClient: st.fromClient}
		if st.fromClient {
			cid++
			p.ipid = cid
		} else {
			p.src, p.dst, p.sport, p.dport = sip, cip, sport, cport
			sid++
			p.ipid = sid
		}
		if st.icmp {
			// The quoted SYN, as it left the client.
			p.src, p.dst, p.sport, p.dport, p.flags, p.ipid = cip, sip, cport, sport, syn, cid
			p.icmpQuote, p.icmpFrom, p.icmpTTL = true, [4]byte{192, 0, 2, 254}, 64
		}
		for _, sd := range sides {
			if sd.atClient && !st.atClient || !sd.atClient && !st.atSrv {
				continue
			}
			q := p
			q.at = start + st.at
			// Each end's own packets leave undecremented; the other's
			// arrive a hop later, half a round trip after (or before)
			// the client sees them.
			switch {
			case sd.atClient && st.fromClient, !sd.atClient && !st.fromClient:
				q.ttl = 64
			default:
				q.ttl = 63
			}
			if !sd.atClient {
				if st.fromClient {
					q.at += d
				} else {
					q.at -= d
				}
			}
			m.order++
			q.order = m.order
			heap.Push(&sd.pending, q)
		}
	}
}

func sortSteps(s []step) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].at < s[j-1].at; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// flush writes the side's pending packets before `until`.
func (m *mixGen) flush(s *mixSide, base time.Time, until time.Duration) error {
	for len(s.pending) > 0 && s.pending[0].at < until {
		p := heap.Pop(&s.pending).(mixPkt)
		if err := m.write(s, base, &p); err != nil {
			return err
		}
	}
	return nil
}

func (m *mixGen) write(s *mixSide, base time.Time, p *mixPkt) error {
	ip := layers.IPv4{Version: 4, Id: p.ipid, TTL: p.ttl, Protocol: layers.IPProtocolTCP, SrcIP: p.src[:], DstIP: p.dst[:], Flags: layers.IPv4DontFragment}
	tcp := layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport), Seq: p.seq, Ack: p.ack, Window: 64240,
		FIN: p.flags&fin != 0, SYN: p.flags&syn != 0, RST: p.flags&rst != 0, PSH: p.flags&psh != 0, ACK: p.flags&ack != 0}
	if p.flags&syn != 0 {
		var ts [8]byte
		tsv := p.seq/7 + uint32(p.ipid)
		ts[0], ts[1], ts[2], ts[3] = byte(tsv>>24), byte(tsv>>16), byte(tsv>>8), byte(tsv)
		tcp.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts[:]},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}
	}
	if err := tcp.SetNetworkLayerForChecksum(&ip); err != nil {
		return err
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if p.icmpQuote {
		ip.TTL = 64
		if err = gopacket.SerializeLayers(m.inner, opts, &ip, &tcp); err != nil {
			return err
		}
		outer := layers.IPv4{Version: 4, Id: p.ipid ^ 0x5555, TTL: p.icmpTTL, Protocol: layers.IPProtocolICMPv4, SrcIP: p.icmpFrom[:], DstIP: p.src[:]}
		icmp := layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeHost)}
		err = gopacket.SerializeLayers(m.buf, opts, &m.eth, &outer, &icmp, gopacket.Payload(m.inner.Bytes()))
	} else {
		body := m.payload[:p.payload]
		n := 0
		switch p.text {
		case textRequest:
			n = copy(body, request)
		case textReply:
			n = copy(body, reply)
		}
		for j := n; j < len(body); j++ {
			body[j] = 'x'
		}
		err = gopacket.SerializeLayers(m.buf, opts, &m.eth, &ip, &tcp, gopacket.Payload(body))
	}
	if err != nil {
		return err
	}
	data := m.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: base.Add(p.at), CaptureLength: len(data), Length: len(data)}
	if s.atClient {
		m.truth.ClientPackets++
	} else {
		m.truth.ServerPackets++
	}
	return s.w.WritePacket(ci, data)
}
