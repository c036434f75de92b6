#!/bin/bash
# Makes client.pcap (tcpdump) and server.pcapng (dumpcap, as Wireshark and
# tshark capture: it closes the file with interface statistics saying when
# the capture started and stopped), and server-tcp.pcapng and
# server-ports.pcapng, the same taken with capture filters "tcp" and "tcp
# port 80 or tcp port 81", which dumpcap records in the file: bash make.sh
# OUTDIR (root; tcpdump,
# dumpcap, iptables, python3). TestQuietServerCapture reads them. The
# client connects to ports 80 and 81, which answer, then to 82, whose SYNs
# the router drops; the server sees nothing more before its capture stops,
# 5 s later. Its last packet is then long before the failed SYNs: only the
# file's own statistics prove the capture still ran while they were sent.
# Documentation addresses, namespaces of our own.
set -u
C=qs-c R=qs-r S=qs-s OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../topo.sh"
topo $C $R $S
# Neighbours fixed, so that the router never asks for the server's address
# again: its ARP request, a few seconds after the last connection, would
# be a packet of the server capture after the lost SYNs, proving the
# capture ran without its statistics.
ip -n $R neigh replace 203.0.113.5 lladdr 02:00:00:00:02:05 dev eth-s nud permanent
ip -n $S neigh replace 203.0.113.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $R iptables -A FORWARD -p tcp --dport 82 --syn -j DROP
echoserve $S 80 81 82
sleep 0.5
ip netns exec $C tcpdump -i eth0 -n -w "$OUT/client.pcap" -U tcp or icmp 2>/dev/null & T1=$!
ip netns exec $S dumpcap -q -i eth0 -w "$OUT/server.pcapng" 2>/dev/null & T2=$!
# The same server with capture filters, which dumpcap records in the file
# (if_filter): one that passes every TCP segment, one that passes only
# ports 80 and 81.
ip netns exec $S dumpcap -q -i eth0 -f "tcp" -w "$OUT/server-tcp.pcapng" 2>/dev/null & T3=$!
ip netns exec $S dumpcap -q -i eth0 -f "tcp port 80 or tcp port 81" -w "$OUT/server-ports.pcapng" 2>/dev/null & T4=$!
sleep 1.5
# Some traffic of the server's other than TCP, as any unfiltered capture
# holds (DNS, NTP): without it, a capture showing the server on two ports
# only may have been taken with a filter on those ports.
ip netns exec $S python3 -c "
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('203.0.113.1', 9))"
ip netns exec $C python3 -c "
import socket
for p in (80,81,82):
    try:
        s=socket.create_connection(('203.0.113.5',p),timeout=20); s.sendall(b'hello'); print(p, s.recv(100)); s.close()
    except Exception as e: print(p, e)
"
sleep 2
kill -INT $T2 $T3 $T4; kill $T1; wait $T2 $T3 $T4; sleep 0.5
kill $SRV 2>/dev/null
untopo $C $R $S
chmod 644 "$OUT"/server*.pcapng
