package verdict

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// Causes read from the first payload bytes and the lookup before the
// connect.
const (
	// CauseBlockedHello: the handshake completed, the client sent its
	// ClientHello (or HTTP request), and a RST not sent by the server
	// ended it: SNI filtering or DPI on the way.
	CauseBlockedHello Cause = "blocked-after-client-hello"
	// CauseGateway: the connection worked; a plaintext HTTP gateway
	// answered 502, 503 or 504: its upstream failed.
	CauseGateway Cause = "gateway-error"
	// CauseDNS: the client connected to an address its name no longer
	// resolves to (a stale cached answer).
	CauseDNS Cause = "dns"
)

// Lookup is the DNS answer that held the server's address, as a verdict
// reports it.
type Lookup struct {
	Name   string
	Answer netip.Addr
	RCode  string
	// Before is how long before the first SYN the answer came.
	Before time.Duration
	// Stale: a newer answer for the name gave Current instead.
	Stale   bool
	Current netip.Addr
}

// appFacts copies what the first payload bytes and the lookup before the
// connect say into the result, writing the names in w.
func appFacts(a *flows.Attempt, r *Result, w *words) {
	// In a join, the client's capture speaks first; the server's fills in
	// what it lacks.
	switch {
	case r.SNI != "" || r.HTTPHost != "":
	case a.ClientApp.Kind == capture.AppTLSClientHello:
		mark := len(w.fields.b)
		w.sni = w.fields.name(a.ClientApp.Name).spanSince(mark)
	case a.ClientApp.Kind == capture.AppHTTPRequest:
		mark := len(w.fields.b)
		w.host = w.fields.name(a.ClientApp.Name).spanSince(mark)
	}
	if r.HTTPStatus == 0 && a.ServerApp.Kind == capture.AppHTTPResponse {
		r.HTTPStatus = int(a.ServerApp.Status)
	}
	if d := a.DNS; d != nil && r.DNS == nil {
		if w.lookup == nil {
			w.lookup = new(Lookup)
		}
		r.DNS = w.lookup
		*r.DNS = Lookup{Answer: d.Addr, Before: d.Before, Stale: d.Stale, Current: d.Current}
		mark := len(w.fields.b)
		w.dnsName = w.fields.name(d.Name).spanSince(mark)
		if name, ok := rcodeName(d.RCode); ok {
			r.DNS.RCode = name
		} else {
			mark := len(w.fields.b)
			w.rcode = w.fields.str("RCODE").num(uint64(d.RCode)).spanSince(mark)
		}
	}
}

// RCodeName is a DNS response code as dig prints it.
func RCodeName(rc uint8) string {
	if name, ok := rcodeName(rc); ok {
		return name
	}
	return "RCODE" + strconv.Itoa(int(rc))
}

// rcodeName names the response codes dig has a name for.
func rcodeName(rc uint8) (string, bool) {
	switch rc {
	case capture.RCodeNoError:
		return "NOERROR", true
	case capture.RCodeServFail:
		return "SERVFAIL", true
	case capture.RCodeNXDomain:
		return "NXDOMAIN", true
	case capture.RCodeRefused:
		return "REFUSED", true
	}
	return "", false
}

// blockedAfterHello: a RST from the path (or of unknown origin) ended a
// connection right after the client's ClientHello or HTTP request, before
// any server data (answersFirstRequest). It writes why in w.
func blockedAfterHello(a *flows.Attempt, r *Result, w *words) bool {
	if r.Verdict != Reset || r.RSTOrigin == OriginServer || r.RSTOrigin == OriginClient || !answersFirstRequest(a) {
		return false
	}
	name, at, what := r.SNI, w.sni, "ClientHello"
	if a.ClientApp.Kind == capture.AppHTTPRequest {
		name, at, what = r.HTTPHost, w.host, "HTTP request"
	}
	t := w.expl.str(" Reset ").dur(sub(a.ServerRST.First, a.ClientAppAt.TS)).str(" after the ").str(what).str(" for ")
	if name == "" && !at.set() {
		t.str("(no name)")
	} else {
		w.writeField(t, name, at)
	}
	t.str(" (").ref(a.ClientAppAt).str("): a middlebox on the way filters on the name.")
	return true
}

// gatewayError: an established connection whose first response is an HTTP
// 502, 503 or 504 from a gateway. It writes why in w.
func gatewayError(r *Result, w *words) bool {
	if r.Verdict != Established {
		return false
	}
	switch r.HTTPStatus {
	case 502:
		w.expl.str(" The connection worked; the gateway answered 502 Bad Gateway: its upstream failed.")
	case 503:
		w.expl.str(" The connection worked; the gateway answered 503 Service Unavailable: no upstream could take the request.")
	case 504:
		w.expl.str(" The connection worked; the gateway answered 504 Gateway Timeout: its upstream timed out.")
	default:
		return false
	}
	return true
}

// staleAddress: a failed attempt to an address the name no longer
// resolved to. It writes why in w.
func staleAddress(r *Result, w *words) bool {
	if !r.Verdict.Failed() || r.DNS == nil || !r.DNS.Stale {
		return false
	}
	t := w.expl.str(" The client connected to ").addr(r.DNS.Answer).str(", which ")
	w.writeField(t, r.DNS.Name, w.dnsName).str(" no longer resolved to: a newer answer gave ").addr(r.DNS.Current).str(" (a stale cached address).")
	return true
}
