// Package capture is synpath's first stage: it opens packet captures (pcap and
// pcapng, gzip'd or not, files or stdin) and hands on, one at a time, the few
// fields of each TCP segment or ICMP error that the later stages need, and
// of each DNS message: what was looked up before a connect, and what came
// back. The first bytes of a payload name the service the client wanted
// ([AppInfo]: a TLS ClientHello's SNI, an HTTP request's Host) and what
// a plaintext server said (an HTTP status).
//
// Reading is pull-based: [Reader.Next] fills a caller-owned [Packet] and
// allocates nothing per packet. Decoding goes through tunnels (GRE, ERSPAN,
// VXLAN, Geneve, GTP-U, IP-in-IP, PPPoE, MPLS, 802.1ah) to the innermost
// segment, reassembles IP fragments in a fixed table, and says in
// [Packet.Tunnel] which overlay network carried the segment. Odd packet contents are counted in [Stats],
// not returned as errors; only broken file structure is an error, and it is
// positioned ([ReadError]). gopacket types do not leave this package.
package capture
