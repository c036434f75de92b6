#!/bin/bash
# Makes client.pcap and server.pcap: bash make.sh OUTDIR (root; tcpdump,
# iptables with the SYNPROXY target, python3). TestSYNProxy reads them.
# SYNPROXY on the router for the server's ports 80 and 81: the router answers
# the client's SYN itself (a SYN cookie), and only after the client's ACK
# opens the connection to the server with the client's ISN. Port 80 open,
# port 81 closed (the server refuses: the proxy resets the client after its
# handshake); port 82, closed too, is not proxied: the server refuses the
# client's SYN itself. Documentation addresses, namespaces of our own.
set -u
C=spy-c R=spy-r S=spy-s OUT=$1
. "$(dirname "$0")/../topo.sh"
topo $C $R $S
ip netns exec $R sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 2>/dev/null
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2
ip netns exec $R iptables -t raw -A PREROUTING -i eth-c -p tcp -m multiport --dports 80,81 --syn -j CT --notrack || exit 1
ip netns exec $R iptables -A FORWARD -i eth-c -p tcp -m multiport --dports 80,81 -m conntrack --ctstate INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460 || exit 1
ip netns exec $R iptables -A FORWARD -i eth-c -p tcp -m conntrack --ctstate INVALID -j DROP
ip netns exec $S python3 -c "
import socket,threading
def srv(p):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('203.0.113.5',p)); s.listen(16)
    while True:
        c,_=s.accept(); d=c.recv(100); c.sendall(b'ok '+d); c.close()
threading.Thread(target=srv,args=(80,),daemon=True).start()
import time; time.sleep(30)" &
SRV=$!
capture $C $S $OUT
ip netns exec $C python3 -c "
import socket
for p in (80,81,82):
    try:
        s=socket.create_connection(('203.0.113.5',p),timeout=5); s.sendall(b'hello'); print(p, s.recv(100)); s.close()
    except Exception as e: print(p, e)
"
sleep 2
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
