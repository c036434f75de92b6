package cmd

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// FuzzPipeline runs packet sequences through every stage, from a capture
// file in memory, as one capture and as both sides of a join, and renders
// everything: whatever the decoder lets through must not panic the verdict
// or report stages.
//
// An input is a script of packets, 8 bytes each (see script), not a capture
// file: the fuzzer minimizes every input that finds new coverage with
// O(n²) runs of the body, so a capture of a few packets (a kilobyte) took
// it minutes per input. Scripts of the same packets take tens of bytes, and
// every mutation is a packet the stages must make sense of (a 40-byte
// input minimizes in well under a second). FuzzOpen and
// FuzzDecode fuzz the file formats and headers.
func FuzzPipeline(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(fuzzBody)
}

// fuzzMaxScript bounds an input: 24 packets at most. Longer ones are
// passed over rather than cut, so that they never count as new coverage:
// minimizing one takes O(n²) runs of the body.
const fuzzMaxScript = 192

func fuzzBody(t *testing.T, script []byte) {
	if len(script) > fuzzMaxScript {
		return
	}
	rd, err := capture.NewReader("fuzz", bytes.NewReader(scriptCapture(script)))
	if err != nil {
		t.Fatal(err)
	}
	var sides [2]verdict.Side
	table := &report.Table{Explain: true}
	tr := flows.NewTracker(flows.Config{Idle: 5e9, MaxAttempts: 64}, func(a *flows.Attempt) {
		v := verdict.InferVantage(a)
		r := verdict.Judge(a, v, verdict.Config{})
		table.Add(r)
		i := 0
		if v == verdict.VantageServer {
			i = 1
		}
		sides[i].Attempts = append(sides[i].Attempts, a.Clone())
	})
	var p capture.Packet
	for rd.Next(&p) == nil {
		tr.Observe(&p)
	}
	tr.Advance(rd.Stats().Last)
	tr.Finish()
	// The same attempts on both sides: every one matches exactly.
	results, _ := verdict.Join(verdict.Side{Attempts: append(sides[0].Attempts, sides[1].Attempts...)},
		verdict.Side{Attempts: append(sides[1].Attempts, sides[0].Attempts...)}, verdict.JoinConfig{})
	jw := report.NewJSONWriter(io.Discard)
	for i := range results {
		table.Add(results[i])
		if err := jw.Write(&results[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := table.Render(io.Discard, report.Footer{}); err != nil {
		t.Fatal(err)
	}
}

// A script is packets of 8 bytes, then 0 to 3 words of TCP options:
//
//	0 time step, signed, in 37 ms
//	1 bit 0: from the server; bits 1-2: client; bit 3: server; bit 4: IPv6;
//	  bits 5-7: 0-4 a TCP segment, 5 an ICMP error about it from a router,
//	  6 one from its destination, 7 a UDP datagram
//	2 TCP flags
//	3 sequence number, signed, from the sender's ISN
//	4 acknowledgement number, signed, from the receiver's ISN
//	5 TTL or hop limit
//	6 payload bytes
//	7 bits 0-1: words of TCP options that follow; bits 2-7: ICMP type and code
func scriptCapture(script []byte) []byte {
	le := binary.LittleEndian
	out := le.AppendUint32(nil, 0xa1b2c3d4)
	out = le.AppendUint16(out, 2)
	out = le.AppendUint16(out, 4)
	out = append(out, make([]byte, 8)...)
	out = le.AppendUint32(out, 65535)
	out = le.AppendUint32(out, 101) // raw IP
	ts := time.Date(2026, 11, 20, 14, 2, 31, 0, time.UTC)
	for n := uint16(1); len(script) >= 8; n++ {
		b := script[:8]
		opts := script[8:min(len(script), 8+4*int(b[7]&3))]
		script = script[8+len(opts):]
		ts = ts.Add(time.Duration(int8(b[0])) * 37 * time.Millisecond)
		pkt := scriptPacket(b, opts, n)
		out = le.AppendUint32(out, uint32(ts.Unix()))
		out = le.AppendUint32(out, uint32(ts.Nanosecond()/1000))
		out = le.AppendUint32(out, uint32(len(pkt)))
		out = le.AppendUint32(out, uint32(len(pkt)))
		out = append(out, pkt...)
	}
	return out
}

// scriptPacket builds one packet of a script: an IP packet with TCP or UDP,
// or an ICMP error quoting such a segment.
func scriptPacket(b, opts []byte, id uint16) []byte {
	be := binary.BigEndian
	v6 := b[1]&0x10 != 0
	ci, si := int(b[1]>>1&3), int(b[1]>>3&1)
	client := [4]byte{198, 51, 100, 10 + byte(ci&1)}
	server := [4]byte{203, 0, 113, 5 + byte(si)}
	cport, sport := uint16(40000+ci), uint16(80+363*si)
	cisn, sisn := uint32(1000*(ci+1)+10*si), uint32(0xfffff000+uint32(ci)) // the server's wraps
	src, dst, sp, dp, seq, ack := client[:], server[:], cport, sport, cisn, sisn
	if b[1]&1 != 0 {
		src, dst, sp, dp, seq, ack = server[:], client[:], sport, cport, sisn, cisn
	}
	if v6 {
		src = append([]byte{0x20, 0x01, 0x0d, 0xb8, 11: 0}, src...)
		dst = append([]byte{0x20, 0x01, 0x0d, 0xb8, 11: 0}, dst...)
	}
	kind := b[1] >> 5
	proto := byte(6)
	l4 := be.AppendUint16(nil, sp)
	l4 = be.AppendUint16(l4, dp)
	if kind == 7 {
		proto = 17
		l4 = be.AppendUint16(l4, uint16(8+int(b[6])))
		l4 = append(l4, 0, 0)
	} else {
		l4 = be.AppendUint32(l4, seq+uint32(int8(b[3])))
		l4 = be.AppendUint32(l4, ack+uint32(int8(b[4])))
		l4 = append(l4, byte(5+len(opts)/4)<<4, b[2], 0xfa, 0xf0, 0, 0, 0, 0)
		l4 = append(l4, opts...)
	}
	l4 = append(l4, make([]byte, b[6])...)
	pkt := ipPacket(v6, src, dst, proto, b[5], id, l4)
	if kind < 5 || kind == 7 {
		return pkt
	}
	// An ICMP error about the packet, to its sender, quoting its start.
	from := []byte{192, 0, 2, 1}
	if v6 {
		from = append([]byte{0x20, 0x01, 0x0d, 0xb8, 11: 0}, from...)
	}
	if kind == 6 {
		from = dst
	}
	typ, code := b[7]>>2&3, b[7]>>4
	if v6 {
		typ = []byte{1, 1, 2, 3}[typ]
	} else {
		typ = []byte{3, 3, 3, 11}[typ]
	}
	quote := pkt[:min(len(pkt), 28+20*int(b[7]>>6&1))]
	icmp := append([]byte{typ, code, 0, 0, 0, 0, 0x05, 0xdc}, quote...)
	proto = 1
	if v6 {
		proto = 58
	}
	return ipPacket(v6, from, src, proto, 250, id, icmp)
}

func ipPacket(v6 bool, src, dst []byte, proto, ttl byte, id uint16, payload []byte) []byte {
	be := binary.BigEndian
	var h []byte
	if v6 {
		h = []byte{0x60, 0, 0, 0}
		h = be.AppendUint16(h, uint16(len(payload)))
		h = append(h, proto, ttl)
	} else {
		h = []byte{0x45, 0}
		h = be.AppendUint16(h, uint16(20+len(payload)))
		h = be.AppendUint16(h, id)
		h = append(h, 0x40, 0, ttl, proto, 0, 0)
	}
	h = append(h, src...)
	h = append(h, dst...)
	return append(h, payload...)
}

// Flags in scripts.
const (
	sFIN = 0x01
	sSYN = 0x02
	sRST = 0x04
	sPSH = 0x08
	sACK = 0x10
)

// sp is one script packet without options.
func sp(dt int8, who, flags byte, seq, ack int8, ttl, payload, icmp byte) []byte {
	return []byte{byte(dt), who, flags, byte(seq), byte(ack), ttl, payload, icmp}
}

// synOpts are an MSS, SACK permitted and a window scale, as one script's
// option words.
var synOpts = []byte{2, 4, 5, 0xb4, 4, 2, 3, 3, 7, 1, 1, 1}

// fuzzSeeds are the lab's kinds of attempt as scripts, from the client's
// side (server packets arrive with a TTL one lower).
var fuzzSeeds = [][]byte{
	// established, with a request and a reply
	bytes.Join([][]byte{append(sp(0, 0, sSYN, 0, 0, 64, 0, 3), synOpts...), sp(1, 1, sSYN|sACK, 0, 1, 63, 0, 0),
		sp(1, 0, sACK, 1, 1, 64, 0, 0), sp(0, 0, sACK|sPSH, 1, 1, 64, 80, 0), sp(1, 1, sACK|sPSH, 1, 81, 63, 40, 0),
		sp(1, 0, sACK|sFIN, 81, 41, 64, 0, 0), sp(1, 1, sACK|sFIN, 41, 82, 63, 0, 0)}, nil),
	// refused
	bytes.Join([][]byte{sp(0, 2, sSYN, 0, 0, 64, 0, 0), sp(1, 3, sRST|sACK, 0, 1, 63, 0, 0)}, nil),
	// timeout: SYN retransmissions
	bytes.Join([][]byte{sp(0, 4, sSYN, 0, 0, 64, 0, 0), sp(27, 4, sSYN, 0, 0, 64, 0, 0), sp(54, 4, sSYN, 0, 0, 64, 0, 0), sp(108, 4, sSYN, 0, 0, 64, 0, 0),
		sp(100, 7<<5, 0, 0, 0, 64, 20, 0)}, nil),
	// unreachable: ICMP from a router, and from the host
	bytes.Join([][]byte{sp(0, 8, sSYN, 0, 0, 64, 0, 0), sp(1, 5<<5|8, sSYN, 0, 0, 64, 0, 1<<4|1<<2)}, nil),
	bytes.Join([][]byte{sp(0, 0x10, sSYN, 0, 0, 64, 0, 0), sp(1, 6<<5|0x10, sSYN, 0, 0, 64, 0, 4<<4|1<<6)}, nil),
	// half-open: the server resends its SYN-ACK, the client re-ACKs
	bytes.Join([][]byte{sp(0, 6, sSYN, 0, 0, 64, 0, 0), sp(1, 7, sSYN|sACK, 0, 1, 63, 0, 0), sp(1, 6, sACK, 1, 1, 64, 0, 0),
		sp(27, 7, sSYN|sACK, 0, 1, 63, 0, 0), sp(1, 6, sACK, 1, 1, 64, 0, 0)}, nil),
	// stalled, IPv6: a request with no reply
	bytes.Join([][]byte{sp(0, 0x12, sSYN, 0, 0, 64, 0, 0), sp(1, 0x13, sSYN|sACK, 0, 1, 63, 0, 0), sp(1, 0x12, sACK, 1, 1, 64, 0, 0),
		sp(0, 0x12, sACK|sPSH, 1, 1, 64, 100, 0), sp(1, 0x13, sACK, 1, 101, 63, 0, 0), sp(100, 0x12, sACK|sPSH, 1, 1, 64, 100, 0)}, nil),
	// aborted by the client; a connection without its SYN; UDP; time running back
	bytes.Join([][]byte{sp(0, 0, sSYN, 0, 0, 64, 0, 0), sp(1, 1, sSYN|sACK, 0, 1, 63, 0, 0), sp(1, 0, sRST, 1, 0, 64, 0, 0),
		sp(1, 2, sACK, 50, 50, 64, 10, 0), sp(-100, 7<<5, 0, 0, 0, 64, 20, 0), sp(-100, 4, sSYN, 0, 0, 64, 0, 0)}, nil),
}

// TestFuzzSeeds: the seeds are the attempts they claim to be, so the
// fuzzer starts from every verdict.
func TestFuzzSeeds(t *testing.T) {
	want := []string{"established", "refused", "timeout", "unreachable", "unreachable", "half-open", "stalled", "aborted"}
	for i, s := range fuzzSeeds {
		rd, err := capture.NewReader("seed", bytes.NewReader(scriptCapture(s)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) {
			got = append(got, string(verdict.Judge(a, verdict.VantageClient, verdict.DefaultConfig).Verdict))
		})
		var p capture.Packet
		for rd.Next(&p) == nil {
			tr.Observe(&p)
		}
		tr.Advance(rd.Stats().Last)
		tr.Finish()
		if len(got) == 0 || got[0] != want[i] {
			t.Errorf("seed %d: verdicts %v, want %s first; %+v", i, got, want[i], rd.Stats())
		}
	}
}
