#!/bin/bash
# Makes tap.pcap and any.pcap: bash make.sh OUTDIR (root; tcpdump,
# python3, go). TestMidPathCapture reads them. Two routers between client
# and server:
#   client 198.51.100.10 — r1 — 192.0.2.0/24 — r2 — server 203.0.113.5
# tap.pcap is taken on r1's side of the middle link, as an engineer takes
# one on a SPAN port: packets both ways have crossed a router there (TTL
# 63), so the TTLs cannot tell which end it is at. any.pcap is r1's
# tcpdump -i any, as one taken on a firewall: what r1 forwards is in it
# twice, the client's SYN as sent (TTL 64) and a hop later (63), the
# server's answers never as sent. live.json is what synpath live -i any
# --format json, built from this tree and run on r1 beside that tcpdump,
# said (CI's remade directory only: it is this build's output). Then the
# same again with r1 translating the client's address (nat-*), then the
# server's, as kube-proxy does for a service (dnat-*). any-interleaved.pcap
# is not made here: it is a CI remake's any.pcap, kept for the coincidence
# it holds (port 84's resent SYN and the server's SYN-ACK passed on at once,
# recorded in, in, out, out).
#   80: established (an echo server);
#   81: refused (nothing listens: the server's kernel answers RST);
#   83: r1 drops the SYN-ACKs after the capture saw them (its FORWARD
#       chain): lost on the return path;
#   84: the client host drops the SYN-ACKs (its INPUT chain);
#   85: the client sends raw SYNs from a port no socket owns (labnet
#       rawsyn): its kernel answers the SYN-ACK with a RST;
#   203.0.113.7:80: r2 drops every packet to it, after the capture saw
#       it pass: lost on the outbound path, from an address that sends
#       nothing the capture could take its distance from;
#   86: r1 drops the SYNs (its FORWARD chain, as a firewall's policy
#       does): any.pcap holds them as r1 received them (the cooked
#       header's packet type) and never as sent on; tap.pcap never sees
#       them.
#   87: r1 rejects the SYNs with a RST in the server's name (FORWARD,
#       REJECT --reject-with tcp-reset): any.pcap holds the RST as r1
#       sent it, never received; tap.pcap sees nothing of it.
# In the dnat- round r1 also stands for its own address as a Kubernetes
# node does for a NodePort: 198.51.100.1:30080 goes to the server's port
# 88 (established), and 30081, which it neither forwards nor serves, its
# kernel refuses: a RST in its own name, from nearer than the SYN-ACKs of
# the port it forwards, as a firewall's would be.
# Documentation addresses, namespaces of our own (MIDPATH_NS, default
# mp, names them).
set -u
P=${MIDPATH_NS:-mp}
C=$P-c R1=$P-r1 R2=$P-r2 S=$P-s OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../topo.sh"
LABNET=$(mktemp -d)/labnet
SYNPATH=$(dirname "$LABNET")/synpath
(cd "$HERE/../../.." && go build -o "$LABNET" ./testdata/lab/labnet && go build -o "$SYNPATH" ./cmd/synpath) || exit 1
# topo makes client — r1 — server; the server's namespace becomes r2, a
# second router, and the server moves one link further.
topo $C $R1 $R2
untopo $S
ip netns add $S; ip -n $S link set lo up
ip netns exec $S sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n $R1 addr del 203.0.113.1/24 dev eth-s; ip -n $R1 addr add 192.0.2.1/24 dev eth-s
ip -n $R2 addr del 203.0.113.5/24 dev eth0; ip -n $R2 addr add 192.0.2.2/24 dev eth0
ip -n $R2 route del default 2>/dev/null
ip -n $S link add eth0 address 02:00:00:00:03:05 type veth peer name eth-s address 02:00:00:00:03:01 netns $R2
ip -n $S addr add 203.0.113.5/24 dev eth0; ip -n $R2 addr add 203.0.113.1/24 dev eth-s
for p in "$S eth0" "$R2 eth-s"; do
  set -- $p
  ip netns exec $1 ethtool -K $2 tx off tso off gso off gro off >/dev/null 2>&1; ip -n $1 link set $2 up
done
ip -n $S route add default via 203.0.113.1
ip -n $R1 route add 203.0.113.0/24 via 192.0.2.2
ip -n $R2 route add 198.51.100.0/24 via 192.0.2.1
ip netns exec $R2 sysctl -qw net.ipv4.ip_forward=1
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $R1 iptables -A FORWARD -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
ip netns exec $C iptables -A INPUT -p tcp --sport 84 --tcp-flags SYN,ACK SYN,ACK -j DROP
ip netns exec $R2 iptables -A FORWARD -d 203.0.113.7 -j DROP
ip netns exec $R1 iptables -A FORWARD -p tcp -d 203.0.113.5 --dport 86 -j DROP
ip netns exec $R1 iptables -A FORWARD -p tcp -d 203.0.113.5 --dport 87 -j REJECT --reject-with tcp-reset
echoserve $S 80 83 84 85 88
# run PREFIX [TO [FIRST]]: the captures of one round of the attempts, into
# OUT/PREFIX*; TO is where the client dials 203.0.113.5's ports; FIRST
# are (address, port) pairs dialled one after the other before them.
run() {
  local pre=$1 to=${2:-203.0.113.5} first=${3:-} T1 T2 T3
  sleep 0.5
  ip netns exec $R1 tcpdump -i eth-s -n -w "$OUT/${pre}tap.pcap" -U tcp or icmp 2>/dev/null & T1=$!
  ip netns exec $R1 tcpdump -i any -n -w "$OUT/${pre}any.pcap" -U tcp or icmp 2>/dev/null & T2=$!
  [ -z "${MIDPATH_LIVE:-}" ] || { ip netns exec $R1 "$SYNPATH" live -i any --format json tcp or icmp >"$OUT/${pre}live.json" 2>"$OUT/${pre}live.err" & T3=$!; }
  sleep 1
  ip netns exec $C python3 -c "
import socket,threading
def dial(a,p):
    try:
        s=socket.create_connection((a,p),timeout=20); s.sendall(b'hello'); print(a, p, s.recv(100)); s.close()
    except Exception as e: print(a, p, e)
to='$to'
for a,p in ($first): dial(a,p)
ts=[threading.Thread(target=dial,args=(a,p)) for a,p in ((to,80),(to,81),(to,83),(to,84),('203.0.113.7',80),(to,86),(to,87))]
for t in ts: t.start()
for t in ts: t.join()
"
  ip netns exec $C "$LABNET" rawsyn -to $to:85 -n 1
  sleep 1
  kill $T1 $T2; sleep 0.5
  [ -z "${MIDPATH_LIVE:-}" ] || { kill -INT $T3; wait $T3; }
}
run ""
# Again with r1 translating the client's address to its own (as a home
# router or a Kubernetes node does for its pods): its -i any capture holds
# each connection under two address pairs, and the server's answers with
# two TTLs, as they came and passed on.
ip netns exec $R1 iptables -t nat -A POSTROUTING -o eth-s -j MASQUERADE
run nat-
# Again with r1 translating the server's address instead, as a
# Kubernetes node's kube-proxy does for a service: the client dials
# 192.0.2.100, an address no host has, and r1 sends its SYNs on to
# 203.0.113.5. Its FORWARD chain sees them translated, and drops port
# 83's SYN-ACKs and port 86's SYNs as before.
ip netns exec $R1 iptables -t nat -F
ip netns exec $R1 iptables -t nat -A PREROUTING -d 192.0.2.100 -j DNAT --to-destination 203.0.113.5
ip netns exec $R1 iptables -t nat -A PREROUTING -d 198.51.100.1 -p tcp --dport 30080 -j DNAT --to-destination 203.0.113.5:88
run dnat- 192.0.2.100 "('198.51.100.1',30080),('198.51.100.1',30081),"
kill $SRV 2>/dev/null
untopo $C $R1 $R2 $S
rm -rf "$(dirname "$LABNET")"
