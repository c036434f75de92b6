#!/bin/bash
# Makes client.pcap and server.pcap: bash make.sh OUTDIR (root; tcpdump,
# nft, python3). TestECNSetupDropped reads them. The client asks for ECN
# in its SYNs (net.ipv4.tcp_ecn=1); the router drops SYNs with ECE and CWR
# set to ports 81 and 82, as broken middleboxes do:
#   80: answered at once (ECN SYNs pass);
#   81: the client falls back (tcp_ecn_fallback=1): its resent SYN has no
#       ECN bits and is answered at once;
#   82: the client does not fall back (tcp_ecn_fallback=0), and times out.
# Documentation addresses, namespaces of our own.
set -u
C=ec-c R=ec-r S=ec-s OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../topo.sh"
topo $C $R $S
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_ecn=1 net.ipv4.tcp_ecn_fallback=1
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $R nft -f - <<'NFT'
table inet ecnmb {
  chain mb {
    type filter hook forward priority 0;
    tcp dport { 81, 82 } tcp flags & (syn | ack | ecn | cwr) == (syn | ecn | cwr) drop
  }
}
NFT
echoserve $S 80 81 82
capture $C $S "$OUT"
# A packet at the server first: its capture then provably runs before the
# first ECN SYN, which the join needs to call that SYN's absence a loss.
ip netns exec $S python3 -c "
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('203.0.113.1', 9))"
sleep 0.5
dial() {
  ip netns exec $C python3 -c "
import socket,sys
for p in sys.argv[1:]:
    try:
        s=socket.create_connection(('203.0.113.5',int(p)),timeout=20); s.sendall(b'hello'); print(p, s.recv(100)); s.close()
    except Exception as e: print(p, e)
" "$@"
}
dial 80 81
ip netns exec $C sysctl -qw net.ipv4.tcp_ecn_fallback=0
dial 82
sleep 1
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
