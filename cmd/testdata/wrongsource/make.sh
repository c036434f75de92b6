#!/bin/bash
# Makes client.pcap and server.pcap: bash make.sh OUTDIR (root; tcpdump,
# iptables, python3). TestAnswerFromAnotherAddress reads them.
# The router publishes the service address 192.0.2.80 and DNATs it to the
# server 203.0.113.5, but the server's replies from port 80 skip connection
# tracking on their way back (a raw-table NOTRACK, as a reply routed
# around the NAT would): the client's SYN to 192.0.2.80:80 is answered by
# SYN-ACKs from 203.0.113.5:80, which its kernel resets, and connect()
# times out. Port 81 is translated both ways, a reference. Documentation
# addresses, namespaces of our own.
set -u
C=ws-c R=ws-r S=ws-s OUT=$1
. "$(dirname "$0")/../topo.sh"
topo $C $R $S
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $R iptables -t nat -A PREROUTING -i eth-c -d 192.0.2.80 -p tcp -j DNAT --to-destination 203.0.113.5 || exit 1
ip netns exec $R iptables -t raw -A PREROUTING -i eth-s -s 203.0.113.5 -p tcp --sport 80 -j CT --notrack || exit 1
echoserve $S 80 81
capture $C $S $OUT
ip netns exec $C python3 -c "
import socket
for p in (81,80):
    try:
        s=socket.create_connection(('192.0.2.80',p),timeout=10); s.sendall(b'hello'); print(p, s.recv(100)); s.close()
    except Exception as e: print(p, e)
"
sleep 1
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
