#!/bin/bash
# Makes router.pcap, router6.pcap, router-long.pcap, router-cut.pcap,
# router-back.pcap and router-back-cut.pcap: bash make.sh OUTDIR (root;
# tcpdump, python3, go). TestBufferbloatedRouterCapture reads them. The router's
# way out to the server is bufferbloated: a tbf of 1 Mbit/s holding 600 ms
# of queue, kept full by a client's UDP stream of 2 Mbit/s to the server's
# port 9, so every packet it forwards that way leaves it about 600 ms
# after it came (less than the 1 s a client waits to resend its SYN).
# router.pcap is the router's tcpdump -i any (TCP only): each SYN as
# received and, 600 ms later, as sent on (a cooked header records which);
# the server's answers as received and sent on at once.
#   80: established, three connections 500 ms apart;
#   81: refused (nothing listens: the server's kernel answers RST);
#   82: the router drops the SYNs (its FORWARD chain): they show as
#       received, never as sent on, and SYNs it received later (81, 80)
#       as sent on.
# router6.pcap is router.pcap over IPv6 with TCP timestamps off: a SYN and
# its copy sent on carry no mark (no IP-ID, no timestamp) to be told from
# the client's next SYN by, but the hop the router took off.
# Documentation addresses, namespaces of our own (BLOAT_NS, default bl,
# names them).
set -u
P=${BLOAT_NS:-bl}
C=$P-c R=$P-r S=$P-s OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../topo.sh"
LABNET=$(mktemp -d)/labnet
(cd "$HERE/../../.." && go build -o "$LABNET" ./testdata/lab/labnet) || exit 1
topo $C $R $S
ip netns exec $R iptables -A FORWARD -p tcp --syn --dport 82 -j DROP
ip netns exec $R ip6tables -A FORWARD -p tcp --syn --dport 82 -j DROP
for ns in $C $R $S; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
  net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.all.accept_ra=0; done
for p in "$C eth0" "$R eth-c" "$R eth-s" "$S eth0"; do set -- $p; ip netns exec $1 sysctl -qw net.ipv6.conf.$2.disable_ipv6=0; done
ip -n $C addr add 2001:db8:c::10/64 dev eth0 nodad; ip -n $R addr add 2001:db8:c::1/64 dev eth-c nodad
ip -n $R addr add 2001:db8:5::1/64 dev eth-s nodad; ip -n $S addr add 2001:db8:5::5/64 dev eth0 nodad
ip -n $C -6 route add default via 2001:db8:c::1; ip -n $S -6 route add default via 2001:db8:5::1
# Neighbours set, as for IPv4: discovery would queue behind the UDP.
ip -n $C neigh replace 2001:db8:c::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n $R neigh replace 2001:db8:c::10 lladdr 02:00:00:00:01:10 dev eth-c nud permanent
ip -n $R neigh replace 2001:db8:5::5 lladdr 02:00:00:00:02:05 dev eth-s nud permanent
ip -n $S neigh replace 2001:db8:5::1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns exec $S "$LABNET" serve -l 203.0.113.5:80,echo -l "[2001:db8:5::5]:80,echo" >/dev/null 2>&1 & SRV=$!
sleep 1
# round FILE ADDRESS QUEUE: the router's capture of three connections to
# port 80, one to 82, one to 81 and one more to 80 (SYNs it received after
# 82's, passed on: its way to the server was open), its queue of QUEUE ms
# toward the server kept full by a UDP stream.
round() {
  local q=$3
  ip netns exec $R tc qdisc replace dev eth-s root tbf rate 1mbit burst 1600 latency ${q}ms
  ip netns exec $R tcpdump -i any -n -U -w "$OUT/$1" tcp 2>/dev/null & T=$!
  sleep 1
  ip netns exec $C python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s.sendto(b"x" * 1000, ("203.0.113.5", 9)); time.sleep(0.004)
' $((q * 3 / 1000 + q * 6 / 5000 + 8)) & UDP=$!
  sleep $((q * 6 / 5000 + 1)) # the queue fills (it grows at 1 Mbit/s)
  ip netns exec $C "$LABNET" connect -to "$2:80" -n 3 -stagger 500ms -timeout 15s
  ip netns exec $C "$LABNET" connect -to "$2:82" -timeout 3500ms
  ip netns exec $C "$LABNET" connect -to "$2:81" -timeout 15s
  ip netns exec $C "$LABNET" connect -to "$2:80" -timeout 15s
  wait $UDP
  sleep 1
  kill $T; sleep 0.5
}
round router.pcap 203.0.113.5 600
# router-long.pcap: the queue holds 5.5 s, longer than synpath waits for a
# copy sent on (5 s), and than the client before resending its SYN: the
# copies cannot be paired, but the hop the router took off still tells a
# router's capture from two hosts' merged.
round router-long.pcap 203.0.113.5 5500
# router-cut.pcap: one connection to port 80 before the queue fills (passed
# on at once), then, the queue holding 5.5 s, another, and the capture
# stopped 3.5 s after it began: its SYNs were received and are still in
# the queue, not dropped (the connection completes after 5.5 s).
ip netns exec $R tcpdump -i any -n -U -w "$OUT/router-cut.pcap" tcp 2>/dev/null & T=$!
sleep 1
ip netns exec $C "$LABNET" connect -to 203.0.113.5:80 -timeout 15s
ip netns exec $C python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 17
while time.time() < end:
    s.sendto(b"x" * 1000, ("203.0.113.5", 9)); time.sleep(0.004)
' & UDP=$!
sleep 8
ip netns exec $C "$LABNET" connect -to 203.0.113.5:80 -timeout 15s & CONN=$!
sleep 3.5
kill $T
wait $CONN $UDP
# The way back: the queue on the router's way to the client (UDP from the
# server fills it), the SYN-ACKs from port 83 dropped (FORWARD).
# router-back.pcap: 80, then 83 (SYN-ACKs received, none passed back),
# then 80 again (its SYN-ACK, received after them, passed back).
# router-back-cut.pcap: one connection to 80 before the queue fills, then,
# the queue holding 5.5 s, another, and the capture stopped 3.5 s after it
# began: its SYN-ACKs are still in the queue, not dropped.
ip netns exec $R tc qdisc replace dev eth-s root pfifo
ip netns exec $R iptables -A FORWARD -p tcp --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
ip netns exec $S "$LABNET" serve -l 203.0.113.5:83,echo >/dev/null 2>&1 & SRV83=$!
fill_back() { # SECONDS: UDP from the server to the client at 2 Mbit/s
  ip netns exec $S python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s.sendto(b"x" * 1000, ("198.51.100.10", 9)); time.sleep(0.004)
' "$1" & UDP=$!
}
ip netns exec $R tc qdisc replace dev eth-c root tbf rate 1mbit burst 1600 latency 600ms
ip netns exec $R tcpdump -i any -n -U -w "$OUT/router-back.pcap" tcp 2>/dev/null & T=$!
sleep 1
fill_back 12
sleep 2
ip netns exec $C "$LABNET" connect -to 203.0.113.5:80 -timeout 15s
ip netns exec $C "$LABNET" connect -to 203.0.113.5:83 -timeout 3500ms
ip netns exec $C "$LABNET" connect -to 203.0.113.5:80 -timeout 15s
wait $UDP
sleep 1
kill $T; sleep 0.5
ip netns exec $R tc qdisc replace dev eth-c root tbf rate 1mbit burst 1600 latency 5500ms
ip netns exec $R tcpdump -i any -n -U -w "$OUT/router-back-cut.pcap" tcp 2>/dev/null & T=$!
sleep 1
ip netns exec $C "$LABNET" connect -to 203.0.113.5:80 -timeout 15s
fill_back 17
sleep 8
ip netns exec $C "$LABNET" connect -to 203.0.113.5:80 -timeout 15s & CONN=$!
sleep 3.5
kill $T
wait $CONN $UDP
kill $SRV83
ip netns exec $R tc qdisc replace dev eth-c root pfifo
for ns in $C $S; do ip netns exec $ns sysctl -qw net.ipv4.tcp_timestamps=0; done
ip netns exec $R tc qdisc replace dev eth-s root pfifo
round router6.pcap "[2001:db8:5::5]" 600
kill $SRV
untopo $C $R $S
