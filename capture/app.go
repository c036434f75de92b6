package capture

// The first bytes of a TCP payload, read for what names the service the
// client wanted: the SNI of a TLS ClientHello, the Host of an HTTP/1.x
// request, the status of an HTTP/1.x response. Each reader looks only at
// the bytes captured (a snaplen or the segment's end may cut them), checks
// every length first, and allocates nothing.

import "bytes"

// NameLen is the longest name a Name holds; a longer one keeps its start
// and says it was cut.
const NameLen = 64

// Name is a host name read from a packet (a TLS SNI, an HTTP Host, a DNS
// question), lowercased, in a fixed buffer so that a Packet holds no slice.
// It is comparable.
type Name struct {
	b [NameLen]byte
	n uint8
	// Cut says the name is longer than what is held: it went past NameLen,
	// or past the bytes captured.
	Cut bool
}

// NameOf makes a Name of s, lowercased and cut to NameLen.
func NameOf(s string) Name {
	var n Name
	for i := 0; i < len(s); i++ {
		n.add(s[i])
	}
	return n
}

// String is the name as held (its start, when Cut).
func (n Name) String() string { return string(n.b[:n.n]) }

// AppendTo appends the name as String gives it, for callers that write
// many names into one buffer rather than allocate a string each.
func (n Name) AppendTo(b []byte) []byte { return append(b, n.b[:n.n]...) }

// Len is the number of bytes held.
func (n Name) Len() int { return int(n.n) }

// addBytes appends b as add would, byte by byte.
func (n *Name) addBytes(b []byte) {
	k := min(len(b), NameLen-int(n.n))
	for i, c := range b[:k] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		n.b[int(n.n)+i] = c
	}
	n.n += uint8(k)
	if k < len(b) {
		n.Cut = true
	}
}

// add appends one byte, lowercased; past NameLen it marks the name cut.
func (n *Name) add(c byte) {
	if int(n.n) >= NameLen {
		n.Cut = true
		return
	}
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	n.b[n.n] = c
	n.n++
}

// AppKind says what the start of a TCP payload is.
type AppKind uint8

const (
	// AppTLSClientHello is a TLS record holding a ClientHello; Name is its
	// server_name (SNI).
	AppTLSClientHello AppKind = iota + 1
	// AppHTTPRequest is an HTTP/1.x request line; Name is its Host header.
	AppHTTPRequest
	// AppHTTPResponse is an HTTP/1.x status line; Status is its code.
	AppHTTPResponse
)

var appNames = [...]string{AppTLSClientHello: "tls-client-hello", AppHTTPRequest: "http-request", AppHTTPResponse: "http-response"}

func (k AppKind) String() string {
	if int(k) < len(appNames) {
		return appNames[k]
	}
	return "?"
}

// AppInfo is what the first bytes of a TCP payload say (Kind 0: nothing
// recognised). Fixed size, no pointers.
type AppInfo struct {
	Kind AppKind
	// Name is the SNI of a ClientHello or the Host of a request (port
	// included, as the header gives it). Empty with Partial false: the
	// message has none.
	Name Name
	// Partial says the message went on past the bytes captured before its
	// name was found (the ClientHello or the request's header continues in
	// another segment or beyond the snaplen): the name was not seen.
	Partial bool
	// Status is an HTTP response's status code.
	Status uint16
}

// app reads the start of a TCP payload into a. Most payloads are neither
// TLS handshakes nor HTTP heads: the first byte rules them out.
func app(a *AppInfo, b []byte) {
	switch b[0] {
	case 0x16:
		clientHello(a, b)
	case 'H':
		if !httpResponse(a, b) {
			httpRequest(a, b)
		}
	case 'G', 'P', 'D', 'O', 'C', 'T':
		httpRequest(a, b)
	}
}

// clientHello reads a TLS handshake record (RFC 8446 5.1, 4.1.2) holding a
// ClientHello, and its server_name extension (RFC 6066 3). Only the first
// record is read: a ClientHello split over records, or cut by the segment's
// end, is Partial when the name lies beyond.
func clientHello(a *AppInfo, b []byte) {
	if len(b) < 6 || b[1] != 3 || b[2] > 4 || b[5] != 1 { // TLS 1.0 to 1.3 record versions; handshake type client_hello
		return
	}
	a.Kind = AppTLSClientHello
	a.Partial = true // until the extensions are walked to their end
	rec := b[5:min(len(b), 5+int(be.Uint16(b[3:5])))]
	if len(rec) < 4 {
		return
	}
	hl := int(rec[1])<<16 | int(rec[2])<<8 | int(rec[3])
	h := rec[4:min(len(rec), 4+hl)]
	// client_version, random, then three vectors to skip.
	off := 2 + 32
	for _, lenBytes := range [...]int{1, 2, 1} { // session id, cipher suites, compression methods
		if off+lenBytes > len(h) {
			return
		}
		n := int(h[off])
		if lenBytes == 2 {
			n = int(be.Uint16(h[off:]))
		}
		off += lenBytes + n
	}
	if off == hl {
		a.Partial = false // no extensions at all (TLS 1.0 clients may omit them)
		return
	}
	if off+2 > len(h) {
		return
	}
	end := off + 2 + int(be.Uint16(h[off:]))
	off += 2
	for off+4 <= min(end, len(h)) {
		typ, n := be.Uint16(h[off:]), int(be.Uint16(h[off+2:]))
		off += 4
		if typ != 0 {
			off += n
			continue
		}
		// server_name_list: a length, then entries of type, length, name.
		e := h[off:min(len(h), off+n)]
		if len(e) < 5 || e[2] != 0 { // host_name
			return
		}
		l := int(be.Uint16(e[3:5]))
		name := e[5:min(len(e), 5+l)]
		if len(name) == 0 && l > 0 {
			return // cut just before the name
		}
		a.Name.addBytes(name)
		a.Name.Cut = a.Name.Cut || len(name) < l
		a.Partial = false
		return
	}
	// The extensions ended without a server_name: the hello has none, if
	// they were all there to see.
	a.Partial = end > len(h)
}

// httpMethods are the request methods recognised, each followed by a space.
var httpMethods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// httpRequest reads an HTTP/1.x request line and looks for the Host header
// in the header lines that follow.
func httpRequest(a *AppInfo, b []byte) {
	method := 0
	for _, m := range httpMethods {
		if hasPrefix(b, m) {
			method = len(m)
			break
		}
	}
	if method == 0 {
		return
	}
	// The request line ends with " HTTP/1.x".
	line, rest, ok := cutLine(b)
	if !ok {
		a.Kind, a.Partial = AppHTTPRequest, true // the request line runs past the capture
		return
	}
	if len(line) < method+10 || !hasPrefix(line[len(line)-9:], " HTTP/1.") {
		return
	}
	a.Kind = AppHTTPRequest
	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			a.Partial = true
			return
		}
		if len(line) == 0 {
			return // end of the header: no Host
		}
		if len(line) < 5 || !hasPrefixFold(line, "host:") {
			continue
		}
		v := line[5:]
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
			v = v[:len(v)-1]
		}
		a.Name.addBytes(v)
		return
	}
}

// httpResponse reads an HTTP/1.x status line: "HTTP/1.1 504 ...".
func httpResponse(a *AppInfo, b []byte) bool {
	if len(b) < 12 || !hasPrefix(b, "HTTP/1.") || b[8] != ' ' {
		return false
	}
	var code uint16
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return false
		}
		code = code*10 + uint16(c-'0')
	}
	if len(b) > 12 && b[12] != ' ' && b[12] != '\r' && b[12] != '\n' {
		return false
	}
	a.Kind, a.Status = AppHTTPResponse, code
	return true
}

// cutLine splits b after its first line, which ends in LF (CR LF, or a
// bare LF as lenient servers accept); the line is returned without them.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, false
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, b[i+1:], true
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// hasPrefixFold is hasPrefix ignoring ASCII case; s is lowercase.
func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
