package report

import (
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

// encoder writes verdicts as JSON lines, byte for byte what encoding/json
// (with HTML escaping off) makes of NewRecord, without making the Record
// or using reflection: JSON output is a hot path on large captures. Tests
// hold the two to the same bytes. It keeps what repeats from line to line.
type encoder struct {
	// tunnel was last written as tunnelText: tunnels are few, and
	// Tunnel.String formats.
	tunnel     capture.Tunnel
	tunnelText string
	// times holds the time prefixes of the last seconds met, each in the
	// slot of its second modulo 4: a line's times, and the next line's,
	// mostly fall in the same few seconds.
	times [4]timeSlot
	// files are the evidence files last written, each with the start of an
	// evidence object naming it: a capture's name is quoted once, not once
	// a packet. Two: a join alternates between its captures.
	files    [2]fileSlot
	nextFile int
	// whats holds evidence objects' what and dir, written: they come from
	// a few names (flows' event names), and a slot from the name's length
	// and first byte and the direction keeps each of those apart.
	whats [32]whatSlot
}

type whatSlot struct {
	what       string
	fromClient bool
	text       []byte // ,"what":…,"dir":…,"ttl":
}

// whatDir returns ev's what and dir as JSON, up to the TTL's value.
func (e *encoder) whatDir(ev *verdict.Evidence) []byte {
	h := 0
	if ev.FromClient {
		h = 1
	}
	if w := ev.What; w != "" {
		h += 14*len(w) + 2*int(w[0])
	}
	t := &e.whats[h%len(e.whats)]
	if t.text != nil && t.fromClient == ev.FromClient && t.what == ev.What {
		return t.text
	}
	b := appendString(append(t.text[:0], `,"what":`...), ev.What)
	if ev.TowardServer() {
		b = append(b, `,"dir":"c2s","ttl":`...)
	} else {
		b = append(b, `,"dir":"s2c","ttl":`...)
	}
	t.text, t.what, t.fromClient = b, ev.What, ev.FromClient
	return b
}

const timeKey = `,"time":"`

type timeSlot struct {
	sec int64
	ok  bool
	key [len(timeKey) + 20]byte // timeKey and the time prefix (timePrefix) of sec
}

type fileSlot struct {
	name  string
	start []byte // {"file":"…","packet":
}

// fileStart returns the start of an evidence object in file.
func (e *encoder) fileStart(file string) []byte {
	for i := range e.files {
		if f := &e.files[i]; f.start != nil && f.name == file {
			return f.start
		}
	}
	f := &e.files[e.nextFile]
	e.nextFile = (e.nextFile + 1) % len(e.files)
	f.name = file
	f.start = append(appendString(append(f.start[:0], `{"file":`...), file), `,"packet":`...)
	return f.start
}

// timePrefix returns timeKey and the time prefix of t; false when the
// layout engine must write t (appendTime).
func (e *encoder) timePrefix(t time.Time) ([]byte, bool) {
	sec := t.Unix()
	slot := &e.times[sec&3]
	if !slot.ok || slot.sec != sec {
		p, ok := timePrefix(t)
		if !ok {
			return nil, false
		}
		copy(slot.key[:], timeKey)
		copy(slot.key[len(timeKey):], p[:])
		slot.sec, slot.ok = sec, true
	}
	return slot.key[:], true
}

// appendTime appends `,"time":"` or key, t as appendTime does, and the
// closing quote.
func (e *encoder) appendTime(b []byte, key string, t time.Time) []byte {
	p, ok := e.timePrefix(t)
	if !ok {
		return append(appendTime(append(b, key...), t), '"')
	}
	if key == timeKey {
		b = append(b, p...)
	} else {
		b = append(append(b, key...), p[len(timeKey):]...)
	}
	b, d := extend(b, 11)
	nanoDigits(d, t.Nanosecond())
	d[9], d[10] = 'Z', '"'
	return b
}

// extend lengthens b by n bytes, which the caller fills in place: a
// number written in a stack array then appended costs a copy.
func extend(b []byte, n int) (_, added []byte) {
	if cap(b)-len(b) < n {
		b = slices.Grow(b, n)
	}
	b = b[:len(b)+n]
	return b, b[len(b)-n:]
}

// appendResult appends r as one line of JSON.
func (e *encoder) appendResult(b []byte, r *verdict.Result, l Live) []byte {
	b = append(b, `{"type":"attempt","client":`...)
	b, client := appendEndpoint(b, r.Client)
	b = append(b, `,"server":`...)
	b, server := appendEndpoint(b, r.Server)
	if r.Tunnel != (capture.Tunnel{}) {
		if r.Tunnel != e.tunnel || e.tunnelText == "" {
			e.tunnel, e.tunnelText = r.Tunnel, r.Tunnel.String()
		}
		if e.tunnelText != "" {
			b = append(b, `,"tunnel":`...)
			b = appendString(b, e.tunnelText)
		}
	}
	b = append(b, `,"verdict":`...)
	b = appendString(b, string(r.Verdict))
	b = append(b, `,"where":`...)
	b = appendString(b, string(r.Where))
	b = append(b, `,"candidates":[`...)
	for i, c := range r.Candidates {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, string(c))
	}
	b = append(b, `],"where_confidence":`...)
	b = appendString(b, string(r.WhereSure))
	if r.Cause != "" {
		b = append(b, `,"cause":`...)
		b = appendString(b, string(r.Cause))
	}
	if r.FellBackTo.IsValid() {
		b = append(b, `,"fell_back_to":`...)
		b, _ = appendEndpoint(b, r.FellBackTo)
	}
	if r.AnsweredFrom.IsValid() {
		b = append(b, `,"answered_from":`...)
		b, _ = appendEndpoint(b, r.AnsweredFrom)
	}
	if r.SNI != "" {
		b = append(b, `,"sni":`...)
		b = appendString(b, r.SNI)
	}
	if r.HTTPHost != "" {
		b = append(b, `,"http_host":`...)
		b = appendString(b, r.HTTPHost)
	}
	if r.HTTPStatus != 0 {
		b = append(b, `,"http_status":`...)
		if r.HTTPStatus > 0 {
			b = appendUint(b, uint64(r.HTTPStatus))
		} else {
			b = strconv.AppendInt(b, int64(r.HTTPStatus), 10)
		}
	}
	if d := r.DNS; d != nil {
		b = append(b, `,"dns":{"name":`...)
		b = appendString(b, d.Name)
		b = append(b, `,"answer":`...)
		b = appendAddrQuoted(b, d.Answer)
		b = append(b, `,"rcode":`...)
		b = appendString(b, d.RCode)
		b = append(b, `,"lookup_ms":`...)
		b = appendMs(b, d.Before)
		if d.Stale {
			b = append(b, `,"stale":true,"current":`...)
			b = appendAddrQuoted(b, d.Current)
		}
		b = append(b, '}')
	}
	b = append(b, `,"rst_origin":`...)
	b = appendString(b, string(r.RSTOrigin))
	if r.OriginSure != "" {
		b = append(b, `,"rst_origin_confidence":`...)
		b = appendString(b, string(r.OriginSure))
	}
	b = append(b, `,"icmp":`...)
	b = appendString(b, r.ICMP)
	b = append(b, `,"vantage":`...)
	b = appendString(b, string(r.Vantage))
	b = e.appendTime(b, `,"first_syn":"`, r.FirstSYN)
	b = append(b, `,"isn":`...)
	b = appendUint(b, uint64(r.ISN))
	b = append(b, `,"syn_sent":`...)
	b = appendCount(b, r.SYNSent)
	b = append(b, `,"syn_seen_by_server":`...)
	b = appendCount(b, r.SYNSeenByServer)
	b = append(b, `,"synack_sent":`...)
	b = appendCount(b, r.SYNACKSent)
	b = append(b, `,"synack_seen_by_client":`...)
	b = appendCount(b, r.SYNACKSeenByClient)
	b = append(b, `,"rtt_ms":`...)
	if r.RTT >= 0 {
		b = appendMs(b, r.RTT)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"clock_offset_ms":`...)
	if r.HasClockOffset {
		b = appendMs(b, r.ClockOffset)
		if r.ClockError >= 0 {
			b = append(b, `,"clock_error_ms":`...)
			b = appendMs(b, r.ClockError)
		}
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"nat":{`...)
	sep := false
	for _, f := range [...]struct {
		key string
		ap  netip.AddrPort
	}{{`"client_seen_by_server":`, r.ClientSeenByServer}, {`"server_seen_by_server":`, r.ServerSeenByServer},
		{`"client_seen_by_client":`, r.ClientSeenByClient}, {`"server_seen_by_client":`, r.ServerSeenByClient}} {
		if !f.ap.IsValid() {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		b = appendAddrPort(b, f.ap)
		sep = true
	}
	b = append(b, '}')
	if r.Match != "" {
		b = append(b, `,"match":`...)
		b = appendString(b, r.Match)
	}
	b = append(b, `,"explanation":`...)
	b = appendString(b, r.Explanation)
	if r.Settle != "" {
		b = append(b, `,"settle_with":`...)
		b = appendString(b, r.Settle)
	}
	b = append(b, `,"evidence":[`...)
	for i := range r.Evidence {
		ev := &r.Evidence[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.fileStart(ev.File)...)
		b = appendUint(b, ev.N)
		b = e.appendTime(b, timeKey, ev.TS)
		b = append(b, e.whatDir(ev)...)
		b = appendUint(b, uint64(ev.TTL))
		if ev.Len != 0 {
			b = append(b, `,"len":`...)
			b = appendUint(b, uint64(ev.Len))
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if r.Client.IsValid() && r.Server.IsValid() {
		b = append(b, `,"wireshark_filter":"`...)
		start := len(b) - 1
		// The filter's addresses and ports are copied from the client and
		// server fields: formatting them again was a third of the filter.
		// (Should b move as it grows, its old array still holds them.)
		b = appendWiresharkFilter(b, r, client.in(b), server.in(b))
		// Fixed words, numbers and addresses: only a zone can need escaping.
		if zoned(r.Client) || zoned(r.Server) || zoned(r.ClientSeenByServer) || zoned(r.ServerSeenByServer) ||
			zoned(r.ClientSeenByClient) || zoned(r.ServerSeenByClient) {
			b = closeQuoted(b, start)
		} else {
			b = append(b, '"')
		}
		// "1:" and base64: nothing to escape.
		b = append(b, `,"community_id":"`...)
		b = appendCommunityID(b, 0, r.Client, r.Server, protoTCP)
		b = append(b, '"')
	}
	if l.Update {
		b = append(b, `,"update":true`...)
	}
	if l.CaptureDrops != 0 {
		b = append(b, `,"capture_drops":`...)
		b = appendUint(b, l.CaptureDrops)
	}
	return append(b, '}', '\n')
}

// endpointAt is where a line holds an endpoint's address and port, as
// offsets: addr[1] is 0 when the filter writes them otherwise.
type endpointAt struct{ addr, port [2]int }

// in returns the text at at in line.
func (at endpointAt) in(line []byte) endpointText {
	if at.addr[1] == 0 {
		return endpointText{}
	}
	return endpointText{addr: line[at.addr[0]:at.addr[1]], port: line[at.port[0]:at.port[1]]}
}

// appendEndpoint is appendAddrPort, and says where the address and the
// port went when the filter writes them the same: not mapped, no zone.
func appendEndpoint(b []byte, p netip.AddrPort) (_ []byte, at endpointAt) {
	a := p.Addr()
	if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
		return appendAddrPort(b, p), at
	}
	if a.Is4() { // "192.0.2.1:80"
		b = append(b, '"')
		at.addr[0] = len(b)
		b = appendIPv4(b, a.As4())
		at.addr[1] = len(b)
		b = append(b, ':')
	} else { // "[2001:db8::1]:80"
		b = append(b, '"', '[')
		at.addr[0] = len(b)
		b = a.AppendTo(b)
		at.addr[1] = len(b)
		b = append(b, ']', ':')
	}
	at.port[0] = len(b)
	b = appendUint(b, uint64(p.Port()))
	at.port[1] = len(b)
	return append(b, '"'), at
}

// appendIPv4 is a.AppendTo for an IPv4 a, without a branch on each
// octet's width: clients' addresses vary, and those branches were missed.
func appendIPv4(b []byte, a [4]byte) []byte {
	// Each octet is stored as four bytes, its digits and a dot, and the
	// next one starts after its dot.
	b, d := extend(b, 4*4)
	i := 0
	for _, o := range a {
		t := &octetText[o]
		copy(d[i:i+4], t[:4])
		i += int(t[4])
	}
	return b[:len(b)-len(d)+i-1] // the last dot goes
}

// octetText holds 0 to 255 in decimal followed by a dot, and in the last
// byte the length of both.
var octetText = func() (t [256][5]byte) {
	for n := range t {
		s := strconv.Itoa(n) + "."
		copy(t[n][:], s)
		t[n][4] = byte(len(s))
	}
	return t
}()

// zoned reports whether p's address has a zone: an interface name, the
// only part of an address that may need escaping.
func zoned(p netip.AddrPort) bool { return p.Addr().Zone() != "" }

// appendAddrPort appends p quoted, as appendString(b, p.String()).
func appendAddrPort(b []byte, p netip.AddrPort) []byte {
	switch {
	case !p.IsValid():
		return appendString(b, p.String())
	case zoned(p):
		start := len(b)
		return closeQuoted(p.AppendTo(append(b, '"')), start)
	}
	return append(p.AppendTo(append(b, '"')), '"')
}

// appendAddrQuoted appends a quoted, as appendString(b, a.String()).
func appendAddrQuoted(b []byte, a netip.Addr) []byte {
	switch {
	case !a.IsValid():
		return appendString(b, a.String())
	case a.Zone() != "":
		start := len(b)
		return closeQuoted(a.AppendTo(append(b, '"')), start)
	}
	return append(a.AppendTo(append(b, '"')), '"')
}

// closeQuoted ends the string whose opening quote is b[start] and whose
// raw bytes follow it, escaping them as appendString when any needs it.
func closeQuoted(b []byte, start int) []byte {
	if raw := b[start+1:]; safeLen(raw) < len(raw) {
		return appendString(b[:start], string(raw))
	}
	return append(b, '"')
}

// appendUint is strconv.AppendUint(b, n, 10), written in place: packet
// numbers, TTLs and lengths are a dozen numbers a line.
func appendUint(b []byte, n uint64) []byte {
	if n < 100 {
		if n < 10 {
			return append(b, byte('0'+n))
		}
		return append(b, digitPairs[2*n], digitPairs[2*n+1])
	}
	// Decimal digits from binary ones: log10(2) ≈ 1233/4096.
	w := bits.Len64(n) * 1233 >> 12
	if n >= pow10[w] {
		w++
	}
	b, d := extend(b, w)
	i := w
	// Four digits a 64-bit division, and below 10^8 two a 32-bit one,
	// each pair's division apart from the next's.
	for n >= 1e8 {
		q := n / 1e4
		r := uint32(n - 1e4*q)
		hi, lo := 2*(r/100), 2*(r%100)
		i -= 4
		d[i], d[i+1], d[i+2], d[i+3] = digitPairs[hi], digitPairs[hi+1], digitPairs[lo], digitPairs[lo+1]
		n = q
	}
	m := uint32(n)
	for m >= 100 {
		q := m / 100
		r := 2 * (m - 100*q)
		i -= 2
		d[i], d[i+1] = digitPairs[r], digitPairs[r+1]
		m = q
	}
	if m >= 10 {
		d[0], d[1] = digitPairs[2*m], digitPairs[2*m+1]
	} else {
		d[0] = byte('0' + m)
	}
	return b
}

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// appendCount appends n, or null for -1 (not known from this vantage).
func appendCount(b []byte, n int) []byte {
	if n < 0 {
		return append(b, "null"...)
	}
	return appendUint(b, uint64(n))
}

// appendMs appends d in milliseconds as encoding/json writes *ms(d),
// in integers below 2^43 µs (101 days): there d in nanoseconds is a
// float64 exactly, the quotient is the double nearest the decimal of
// at most 15 digits it stands for, and no other decimal of as few digits
// rounds to that double, so the shortest form is that decimal.
func appendMs(b []byte, d time.Duration) []byte {
	us := int64(d.Round(time.Microsecond) / time.Microsecond)
	if us <= -1<<43 || us >= 1<<43 {
		return appendFloat(b, msFloat(d))
	}
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = appendUint(b, uint64(us/1000))
	frac := us % 1000
	if frac == 0 {
		return b
	}
	b, f := extend(b, 4)
	f[0] = '.'
	digits(f[1:], int(frac))
	// Trailing zeros go: 1.500 is 1.5.
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// appendFloat formats as encoding/json does: shortest representation,
// exponent form only for very small or very large magnitudes.
func appendFloat(b []byte, v float64) []byte {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return append(b, "null"...) // unreachable for durations; never invalid JSON
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes a JSON string holds as they are: printable
// ASCII but '"' and '\\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// safeLen is how many of s's first bytes JSON holds as they are. It reads
// eight bytes at a time: explanations are long, and nearly all of them is
// plain ASCII.
func safeLen[T string | []byte](s T) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		t := s[i : i+8] // one bounds check, not eight
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		q, bs := w^(ones*'"'), w^(ones*'\\')
		// The high bit of a byte is set, in some byte, when one is below
		// 0x20, a quote, a backslash, or not ASCII.
		if (w|(w-ones*0x20)&^w|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	return i
}

// appendString quotes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	i := safeLen(s)
	if i == len(s) {
		// Nearly every string: one growth check, not three appends.
		b, d := extend(b, len(s)+2)
		d[0], d[len(d)-1] = '"', '"'
		copy(d[1:], s)
		return b
	}
	b = append(b, '"')
	start := 0
	for ; i < len(s); i += safeLen(s[i:]) {
		if c := s[i]; c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
