package capture

import (
	"fmt"
	"strconv"
)

const (
	icmp4DestUnreach  = 3
	icmp4TimeExceeded = 11
	icmp4FragNeeded   = 4 // code of DestUnreach
	icmp6DestUnreach  = 1
	icmp6PacketTooBig = 2
	icmp6TimeExceeded = 3
)

var icmp4UnreachNames = [...]string{
	"net-unreachable", "host-unreachable", "protocol-unreachable", "port-unreachable",
	"fragmentation-needed", "source-route-failed", "net-unknown", "host-unknown",
	"source-host-isolated", "net-prohibited", "host-prohibited", "net-unreachable-for-tos",
	"host-unreachable-for-tos", "admin-prohibited", "host-precedence-violation", "precedence-cutoff",
}

var icmp6UnreachNames = [...]string{
	"no-route", "admin-prohibited", "beyond-scope", "address-unreachable",
	"port-unreachable", "source-policy-failed", "reject-route",
}

// Name is the error in the words iptables' REJECT and tcpdump use, e.g.
// "host-unreachable" or "admin-prohibited".
func (i ICMPInfo) Name() string {
	switch {
	case !i.V6 && i.Type == icmp4DestUnreach && int(i.Code) < len(icmp4UnreachNames):
		return icmp4UnreachNames[i.Code]
	case i.V6 && i.Type == icmp6DestUnreach && int(i.Code) < len(icmp6UnreachNames):
		return icmp6UnreachNames[i.Code]
	case !i.V6 && i.Type == icmp4TimeExceeded, i.V6 && i.Type == icmp6TimeExceeded:
		return "time-exceeded"
	case i.V6 && i.Type == icmp6PacketTooBig:
		return "packet-too-big"
	}
	if i.V6 {
		return fmt.Sprintf("icmpv6 type %d code %d", i.Type, i.Code)
	}
	return fmt.Sprintf("icmp type %d code %d", i.Type, i.Code)
}

// String names the error with its type and code, e.g.
// "admin-prohibited (ICMP 3/13)".
func (i ICMPInfo) String() string {
	var b [48]byte
	return string(i.AppendTo(b[:0]))
}

// AppendTo appends the words String gives, without fmt.
func (i ICMPInfo) AppendTo(b []byte) []byte {
	b = append(b, i.Name()...)
	if i.V6 {
		b = append(b, " (ICMPv6 "...)
	} else {
		b = append(b, " (ICMP "...)
	}
	b = strconv.AppendUint(b, uint64(i.Type), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(i.Code), 10)
	return append(b, ')')
}

// Unreachable reports whether the error is a destination-unreachable.
func (i ICMPInfo) Unreachable() bool {
	return (!i.V6 && i.Type == icmp4DestUnreach) || (i.V6 && i.Type == icmp6DestUnreach)
}

// Quotes reports whether the error is one that answers a packet it quotes:
// destination unreachable, time exceeded or packet too big.
func (i ICMPInfo) Quotes() bool {
	if i.V6 {
		return i.Type == icmp6DestUnreach || i.Type == icmp6PacketTooBig || i.Type == icmp6TimeExceeded
	}
	return i.Type == icmp4DestUnreach || i.Type == icmp4TimeExceeded
}

// Fatal reports whether the error ends a connect() in progress: everything
// but path-MTU signals, which only ask for smaller packets.
func (i ICMPInfo) Fatal() bool {
	if !i.Quotes() {
		return false
	}
	if i.V6 {
		return i.Type != icmp6PacketTooBig
	}
	return !(i.Type == icmp4DestUnreach && i.Code == icmp4FragNeeded)
}

// Errno is the error a Linux connect() typically reports for it.
func (i ICMPInfo) Errno() string {
	switch i.Name() {
	case "net-unreachable", "net-unknown", "no-route", "net-unreachable-for-tos":
		return "ENETUNREACH"
	case "port-unreachable":
		return "ECONNREFUSED"
	case "protocol-unreachable":
		return "ENOPROTOOPT"
	}
	if i.V6 && i.Name() == "admin-prohibited" {
		return "EACCES"
	}
	return "EHOSTUNREACH"
}
