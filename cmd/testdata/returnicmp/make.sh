#!/bin/bash
# Makes client.pcap and server.pcap: bash make.sh OUTDIR [router|client] (root;
# tcpdump, iptables, python3). TestReturnPathICMPAtTheServer reads them: made
# with router in this directory, with client in client-host/.
# Return-path ICMP: the router rejects the server's SYN-ACKs to the client
# with ICMP host unreachable (sent to the server). Documentation addresses,
# namespaces of our own.
set -u
C=spx-c R=spx-r S=spx-s OUT=$1 MODE=${2:-router}
. "$(dirname "$0")/../topo.sh"
topo $C $R $S
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=3
# reference connection on port 80 works; SYN-ACKs from port 83 are rejected on
# the way back (router), or by the client host's own firewall (client)
if [ "$MODE" = client ]; then
  ip netns exec $C iptables -A INPUT -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j REJECT --reject-with icmp-admin-prohibited
else
  ip netns exec $R iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j REJECT --reject-with icmp-host-unreachable
fi
ip netns exec $S python3 -c "
import socket,threading
def srv(p):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('203.0.113.5',p)); s.listen(16)
    while True:
        c,_=s.accept(); d=c.recv(100); c.sendall(b'ok '+d); c.close()
for p in (80,83): threading.Thread(target=srv,args=(p,),daemon=True).start()
import time; time.sleep(60)" &
SRV=$!
capture $C $S $OUT
ip netns exec $C python3 -c "
import socket
s=socket.create_connection(('203.0.113.5',80),timeout=3); s.sendall(b'hello'); print(s.recv(100)); s.close()
try:
    s=socket.create_connection(('203.0.113.5',83),timeout=20); print('connected?!')
except Exception as e: print('83:', e)
"
sleep 2
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
