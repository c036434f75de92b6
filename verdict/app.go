package verdict

import (
	"fmt"
	"net/netip"
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
// connect say into the result.
func appFacts(a *flows.Attempt, r *Result) {
	// In a join, the client's capture speaks first; the server's fills in
	// what it lacks.
	switch {
	case r.SNI != "" || r.HTTPHost != "":
	case a.ClientApp.Kind == capture.AppTLSClientHello:
		r.SNI = a.ClientApp.Name.String()
	case a.ClientApp.Kind == capture.AppHTTPRequest:
		r.HTTPHost = a.ClientApp.Name.String()
	}
	if r.HTTPStatus == 0 && a.ServerApp.Kind == capture.AppHTTPResponse {
		r.HTTPStatus = int(a.ServerApp.Status)
	}
	if d := a.DNS; d != nil && r.DNS == nil {
		r.DNS = &Lookup{Name: d.Name.String(), Answer: d.Addr, RCode: RCodeName(d.RCode), Before: d.Before, Stale: d.Stale, Current: d.Current}
	}
}

// RCodeName is a DNS response code as dig prints it.
func RCodeName(rc uint8) string {
	switch rc {
	case capture.RCodeNoError:
		return "NOERROR"
	case capture.RCodeServFail:
		return "SERVFAIL"
	case capture.RCodeNXDomain:
		return "NXDOMAIN"
	case capture.RCodeRefused:
		return "REFUSED"
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// blockedAfterHello: a RST from the path (or of unknown origin) ended a
// connection right after the client's ClientHello or HTTP request, before
// any server data.
func blockedAfterHello(a *flows.Attempt, r *Result) (string, bool) {
	if r.Verdict != Reset || r.RSTOrigin == OriginServer || r.RSTOrigin == OriginClient || a.ServerData.Count > 0 {
		return "", false
	}
	if a.ClientApp.Kind != capture.AppTLSClientHello && a.ClientApp.Kind != capture.AppHTTPRequest {
		return "", false
	}
	if a.ServerRST.Count == 0 || a.ServerRST.First.Before(a.ClientAppAt.TS) {
		return "", false
	}
	name, what := r.SNI, "ClientHello"
	if a.ClientApp.Kind == capture.AppHTTPRequest {
		name, what = r.HTTPHost, "HTTP request"
	}
	if name == "" {
		name = "(no name)"
	}
	return fmt.Sprintf(" Reset %s after the %s for %s (%s): a middlebox on the way filters on the name.",
		dur(a.ServerRST.First.Sub(a.ClientAppAt.TS)), what, name, a.ClientAppAt), true
}

// gatewayError: an established connection whose first response is an HTTP
// 502, 503 or 504 from a gateway.
func gatewayError(r *Result) (string, bool) {
	if r.Verdict != Established {
		return "", false
	}
	switch r.HTTPStatus {
	case 502:
		return " The connection worked; the gateway answered 502 Bad Gateway: its upstream failed.", true
	case 503:
		return " The connection worked; the gateway answered 503 Service Unavailable: no upstream could take the request.", true
	case 504:
		return " The connection worked; the gateway answered 504 Gateway Timeout: its upstream timed out.", true
	}
	return "", false
}

// staleAddress: a failed attempt to an address the name no longer
// resolved to.
func staleAddress(r *Result) (string, bool) {
	if !r.Verdict.Failed() || r.DNS == nil || !r.DNS.Stale {
		return "", false
	}
	return fmt.Sprintf(" The client connected to %s, which %s no longer resolved to: a newer answer gave %s (a stale cached address).",
		r.DNS.Answer, r.DNS.Name, r.DNS.Current), true
}
