package report

import (
	"math"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"github.com/synpath/synpath/verdict"
)

// appendRecord appends rec as one line of JSON, byte for byte what
// encoding/json (with HTML escaping off) makes of a Record, without its
// reflection: JSON output is a hot path on large captures. A test holds the
// two to the same bytes.
//
// Given r, the verdict rec was filled from by fillRecord with a store,
// the addresses, times, filter and Community ID are appended straight from
// r; each evidence file name is quoted once a line. The same bytes, no
// string made.
func appendRecord(b []byte, rec *Record, r *verdict.Result) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, rec.Type)
	b = append(b, `,"client":`...)
	if r != nil {
		b = appendAddrPort(b, r.Client)
	} else {
		b = appendString(b, rec.Client)
	}
	b = append(b, `,"server":`...)
	if r != nil {
		b = appendAddrPort(b, r.Server)
	} else {
		b = appendString(b, rec.Server)
	}
	if rec.Tunnel != "" {
		b = append(b, `,"tunnel":`...)
		b = appendString(b, rec.Tunnel)
	}
	b = append(b, `,"verdict":`...)
	b = appendString(b, rec.Verdict)
	b = append(b, `,"where":`...)
	b = appendString(b, rec.Where)
	b = append(b, `,"candidates":`...)
	if rec.Candidates == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range rec.Candidates {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c)
		}
		b = append(b, ']')
	}
	b = append(b, `,"where_confidence":`...)
	b = appendString(b, rec.WhereConfidence)
	if rec.Cause != "" {
		b = append(b, `,"cause":`...)
		b = appendString(b, rec.Cause)
	}
	if rec.SNI != "" {
		b = append(b, `,"sni":`...)
		b = appendString(b, rec.SNI)
	}
	if rec.HTTPHost != "" {
		b = append(b, `,"http_host":`...)
		b = appendString(b, rec.HTTPHost)
	}
	if rec.HTTPStatus != 0 {
		b = append(b, `,"http_status":`...)
		b = strconv.AppendInt(b, int64(rec.HTTPStatus), 10)
	}
	if d := rec.DNS; d != nil {
		b = append(b, `,"dns":{"name":`...)
		b = appendString(b, d.Name)
		b = append(b, `,"answer":`...)
		b = appendString(b, d.Answer)
		b = append(b, `,"rcode":`...)
		b = appendString(b, d.RCode)
		b = append(b, `,"lookup_ms":`...)
		b = appendFloatPtr(b, d.LookupMs)
		if d.Stale {
			b = append(b, `,"stale":true`...)
		}
		if d.Current != "" {
			b = append(b, `,"current":`...)
			b = appendString(b, d.Current)
		}
		b = append(b, '}')
	}
	b = append(b, `,"rst_origin":`...)
	b = appendString(b, rec.RSTOrigin)
	if rec.RSTOriginConfidence != "" {
		b = append(b, `,"rst_origin_confidence":`...)
		b = appendString(b, rec.RSTOriginConfidence)
	}
	b = append(b, `,"icmp":`...)
	b = appendString(b, rec.ICMP)
	b = append(b, `,"vantage":`...)
	b = appendString(b, rec.Vantage)
	b = append(b, `,"first_syn":`...)
	if r != nil {
		b = append(b, '"')
		b = appendTime(b, r.FirstSYN)
		b = append(b, '"')
	} else {
		b = appendString(b, rec.FirstSYN)
	}
	b = append(b, `,"isn":`...)
	b = strconv.AppendUint(b, uint64(rec.ISN), 10)
	b = append(b, `,"syn_sent":`...)
	b = appendIntPtr(b, rec.SYNSent)
	b = append(b, `,"syn_seen_by_server":`...)
	b = appendIntPtr(b, rec.SYNSeenByServer)
	b = append(b, `,"synack_sent":`...)
	b = appendIntPtr(b, rec.SYNACKSent)
	b = append(b, `,"synack_seen_by_client":`...)
	b = appendIntPtr(b, rec.SYNACKSeenByClient)
	b = append(b, `,"rtt_ms":`...)
	b = appendFloatPtr(b, rec.RTTms)
	b = append(b, `,"clock_offset_ms":`...)
	b = appendFloatPtr(b, rec.ClockOffsetms)
	if rec.ClockErrorms != nil {
		b = append(b, `,"clock_error_ms":`...)
		b = appendFloatPtr(b, rec.ClockErrorms)
	}
	b = append(b, `,"nat":{`...)
	sep := false
	if rec.NAT.ClientSeenByServer != "" {
		b = append(b, `"client_seen_by_server":`...)
		b = appendString(b, rec.NAT.ClientSeenByServer)
		sep = true
	}
	if rec.NAT.ServerSeenByServer != "" {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"server_seen_by_server":`...)
		b = appendString(b, rec.NAT.ServerSeenByServer)
	}
	b = append(b, '}')
	if rec.Match != "" {
		b = append(b, `,"match":`...)
		b = appendString(b, rec.Match)
	}
	b = append(b, `,"explanation":`...)
	b = appendString(b, rec.Explanation)
	if rec.SettleWith != "" {
		b = append(b, `,"settle_with":`...)
		b = appendString(b, rec.SettleWith)
	}
	b = append(b, `,"evidence":`...)
	if rec.Evidence == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		// Where the previous evidence's file name was quoted: the next
		// one is nearly always the same file.
		fileAt, fileEnd := -1, -1
		for i := range rec.Evidence {
			if i > 0 {
				b = append(b, ',')
			}
			e := &rec.Evidence[i]
			b = append(b, `{"file":`...)
			if fileAt >= 0 && e.File == rec.Evidence[i-1].File {
				b = append(b, b[fileAt:fileEnd]...)
			} else {
				fileAt = len(b)
				b = appendString(b, e.File)
				fileEnd = len(b)
			}
			b = append(b, `,"packet":`...)
			b = strconv.AppendUint(b, e.Packet, 10)
			b = append(b, `,"time":`...)
			if r != nil {
				b = append(b, '"')
				b = appendTime(b, r.Evidence[i].TS)
				b = append(b, '"')
			} else {
				b = appendString(b, e.Time)
			}
			b = append(b, `,"what":`...)
			b = appendString(b, e.What)
			b = append(b, `,"dir":`...)
			b = appendString(b, e.Dir)
			b = append(b, `,"ttl":`...)
			b = strconv.AppendUint(b, uint64(e.TTL), 10)
			if e.Len != 0 {
				b = append(b, `,"len":`...)
				b = strconv.AppendUint(b, uint64(e.Len), 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	switch {
	case r != nil && r.Client.IsValid() && r.Server.IsValid():
		b = append(b, `,"wireshark_filter":`...)
		start := len(b)
		b = closeQuoted(appendWiresharkFilter(append(b, '"'), r), start)
		b = append(b, `,"community_id":`...)
		start = len(b)
		b = closeQuoted(appendCommunityID(append(b, '"'), 0, r.Client, r.Server, protoTCP), start)
	case r != nil:
	default:
		if rec.WiresharkFilter != "" {
			b = append(b, `,"wireshark_filter":`...)
			b = appendString(b, rec.WiresharkFilter)
		}
		if rec.CommunityID != "" {
			b = append(b, `,"community_id":`...)
			b = appendString(b, rec.CommunityID)
		}
	}
	if rec.Update {
		b = append(b, `,"update":true`...)
	}
	if rec.CaptureDrops != 0 {
		b = append(b, `,"capture_drops":`...)
		b = strconv.AppendUint(b, rec.CaptureDrops, 10)
	}
	return append(b, '}', '\n')
}

// appendAddrPort appends p quoted, as appendString(b, p.String()).
func appendAddrPort(b []byte, p netip.AddrPort) []byte {
	if !p.IsValid() {
		return appendString(b, p.String())
	}
	start := len(b)
	return closeQuoted(p.AppendTo(append(b, '"')), start)
}

// closeQuoted ends the string whose opening quote is b[start] and whose
// raw bytes follow it, escaping them as appendString when any needs it.
func closeQuoted(b []byte, start int) []byte {
	for _, c := range b[start+1:] {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendString(b[:start], string(b[start+1:]))
		}
	}
	return append(b, '"')
}

func appendIntPtr(b []byte, n *int) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

// appendFloatPtr formats as encoding/json does: shortest representation,
// exponent form only for very small or very large magnitudes.
func appendFloatPtr(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	v := *f
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

// appendString quotes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
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
