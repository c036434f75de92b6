package report

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/synpath/synpath/verdict"
)

// This file hands an attempt over to other tools: a Wireshark display
// filter that isolates it, and its Community ID, the flow hash Zeek,
// Suricata and Arkime print, to find it in their logs.

// protoTCP is TCP's IP protocol number.
const protoTCP = 6

// CommunityID is the attempt's Community ID v1 (seed 0).
func CommunityID(r *verdict.Result) string {
	if !r.Client.IsValid() || !r.Server.IsValid() {
		return ""
	}
	var out [communityIDLen]byte
	return string(appendCommunityID(out[:0], 0, r.Client, r.Server, protoTCP))
}

// communityIDLen is the length of a Community ID v1: "1:" and the base64
// of a SHA-1.
const communityIDLen = 2 + 28

// communityID follows the Community ID spec, version 1: SHA-1 over the
// seed, both addresses, the protocol, a zero byte and both ports (network
// byte order), the endpoints ordered smaller first (address, then port),
// in base64 after "1:". ICMP's type/code mapping is not needed here.
func communityID(seed uint16, src, dst netip.AddrPort, proto uint8) string {
	var out [communityIDLen]byte
	return string(appendCommunityID(out[:0], seed, src, dst, proto))
}

// appendCommunityID appends communityID(seed, src, dst, proto) to out.
func appendCommunityID(out []byte, seed uint16, src, dst netip.AddrPort, proto uint8) []byte {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	sp, dp := src.Port(), dst.Port()
	if c := sa.Compare(da); c > 0 || c == 0 && sp > dp {
		sa, da, sp, dp = da, sa, dp, sp
	}
	var buf [2 + 16 + 16 + 6]byte
	b := binary.BigEndian.AppendUint16(buf[:0], seed)
	b = appendAddr(b, sa)
	b = appendAddr(b, da)
	b = append(b, proto, 0)
	b = binary.BigEndian.AppendUint16(b, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	sum := sha1.Sum(b)
	out = append(out, '1', ':')
	return base64.StdEncoding.AppendEncode(out, sum[:])
}

// appendAddr appends the address's bytes: 4 for IPv4, 16 for IPv6.
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		a4 := a.As4()
		return append(b, a4[:]...)
	}
	a16 := a.As16()
	return append(b, a16[:]...)
}

// filterMargin widens the time window of a filter: the packets of an
// attempt, and ICMP errors quoting them, all fall inside it.
const filterMargin = time.Second

// WiresharkFilter is a display filter that isolates the attempt: its
// 4-tuple (also as the server's capture saw it, behind NAT), in a window
// from a second before its first packet to a second after its last, so a
// later connection reusing the ports is left out. An ICMP error quoting
// the attempt matches too: Wireshark dissects the quoted headers into the
// same fields. The window is frame.time_epoch, which no time zone shifts.
func WiresharkFilter(r *verdict.Result) string {
	var arr [448]byte
	return string(appendWiresharkFilter(arr[:0], r, endpointText{}, endpointText{}))
}

// endpointText is an endpoint's address and port as a filter writes
// them, taken from text written before (a JSON line's client and
// server); nil where there is none, and appendTuple formats them.
type endpointText struct{ addr, port []byte }

// appendWiresharkFilter appends WiresharkFilter(r) to b; ct and st are the
// text of r.Client and r.Server, where the caller has it.
func appendWiresharkFilter(b []byte, r *verdict.Result, ct, st endpointText) []byte {
	if !r.Client.IsValid() || !r.Server.IsValid() {
		return b
	}
	first, last := r.FirstSYN, r.FirstSYN
	fi, li := instantOf(first), instantOf(first)
	for i := range r.Evidence {
		ts := r.Evidence[i].TS
		if ts.IsZero() {
			continue
		}
		ti := instantOf(ts)
		if first.IsZero() || ti.before(fi) {
			first, fi = ts, ti
		}
		if li.before(ti) {
			last, li = ts, ti
		}
	}
	window := !first.IsZero()
	nat := r.ClientSeenByServer.IsValid() && r.ClientSeenByServer != r.Client ||
		r.ServerSeenByServer.IsValid() && r.ServerSeenByServer != r.Server ||
		r.ClientSeenByClient.IsValid() || r.ServerSeenByClient.IsValid()
	// The answers from another address are the attempt's packets too.
	elsewhere := r.AnsweredFrom.IsValid() && r.AnsweredFrom != r.Server
	alternatives := nat || elsewhere
	if alternatives && window {
		b = append(b, '(')
	}
	if alternatives {
		b = append(b, '(')
	}
	b = appendTuple(b, r.Client, r.Server, ct, st)
	if nat {
		c, s := r.Client, r.Server
		if r.ClientSeenByServer.IsValid() {
			c = r.ClientSeenByServer
		}
		if r.ServerSeenByServer.IsValid() {
			s = r.ServerSeenByServer
		}
		// The translated view's other tuple is the client's.
		if r.ClientSeenByClient.IsValid() {
			c = r.ClientSeenByClient
		}
		if r.ServerSeenByClient.IsValid() {
			s = r.ServerSeenByClient
		}
		b = append(b, ") || ("...)
		b = appendTuple(b, c, s, endpointText{}, endpointText{})
	}
	if elsewhere {
		b = append(b, ") || ("...)
		b = appendTuple(b, r.Client, r.AnsweredFrom, ct, endpointText{})
	}
	if alternatives {
		b = append(b, ')')
	}
	if alternatives && window {
		b = append(b, ')')
	}
	if window {
		b = append(b, " && frame.time_epoch >= "...)
		b = appendEpoch(b, epochMicros(first, -filterMargin, false))
		b = append(b, " && frame.time_epoch <= "...)
		b = appendEpoch(b, epochMicros(last, filterMargin, true))
	}
	return b
}

// instant is a time as seconds and nanoseconds since the epoch, in the
// order Before and After give times without a monotonic reading, as
// captures' are; compared inline, where those two are calls, twice a
// packet.
type instant struct {
	sec  int64
	nsec int
}

func instantOf(t time.Time) instant { return instant{t.Unix(), t.Nanosecond()} }

func (a instant) before(b instant) bool { return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec }

// appendTuple appends the filter of one 4-tuple, either direction; ct
// and st are c's and s's text, where the caller has it.
func appendTuple(b []byte, c, s netip.AddrPort, ct, st endpointText) []byte {
	field := "ip.addr=="
	if c.Addr().Unmap().Is6() {
		field = "ipv6.addr=="
	}
	b = append(b, field...)
	b = ct.appendAddr(b, c)
	b = append(b, " && "...)
	b = append(b, field...)
	b = st.appendAddr(b, s)
	b = append(b, " && tcp.port=="...)
	b = ct.appendPort(b, c)
	b = append(b, " && tcp.port=="...)
	return st.appendPort(b, s)
}

func (t endpointText) appendAddr(b []byte, p netip.AddrPort) []byte {
	if t.addr != nil {
		return append(b, t.addr...)
	}
	return p.Addr().Unmap().AppendTo(b)
}

func (t endpointText) appendPort(b []byte, p netip.AddrPort) []byte {
	if t.port != nil {
		return append(b, t.port...)
	}
	return appendUint(b, uint64(p.Port()))
}

// epochMicros is t+d in microseconds since the epoch, rounded down, or up
// when up; d is whole microseconds. Integer arithmetic where it cannot
// overflow: time.Time's Add and Truncate were a tenth of the filter.
func epochMicros(t time.Time, d time.Duration, up bool) int64 {
	if sec := t.Unix(); sec > -1<<40 && sec < 1<<40 {
		ns := int64(t.Nanosecond())
		us := sec*1e6 + ns/1e3 + d.Microseconds()
		if up && ns%1e3 != 0 {
			us++
		}
		return us
	}
	t = t.Add(d)
	down := t.Truncate(time.Microsecond)
	if up && !down.Equal(t) {
		down = down.Add(time.Microsecond)
	}
	return down.UnixMicro()
}

// appendEpoch appends us (microseconds since the epoch, none before it) as
// seconds with six decimals.
func appendEpoch(b []byte, us int64) []byte {
	us = max(us, 0)
	b = appendUint(b, uint64(us/1e6))
	b, d := extend(b, 7)
	d[0] = '.'
	frac := uint32(us % 1e6)
	threeDigits(d[1:], frac/1e3)
	threeDigits(d[4:], frac%1e3)
	return b
}
