#!/bin/bash
# Makes client.pcap and server.pcap: bash make.sh OUTDIR (root; tcpdump,
# python3). TestOneLinkCapture reads them. Client and server on one link,
# no router between them, as in one rack or one subnet:
#   client 198.51.100.10 — server 198.51.100.20
# each end's tcpdump -i any, which writes each packet's direction (the
# Linux cooked header's packet type). Both ends' packets arrive with the
# TTL they were sent with: the TTLs cannot tell which end a capture is
# from; the direction can.
#   80: established (an echo server);
#   81: refused (nothing listens: the server's kernel answers RST);
#   82: the server host drops the SYNs (its INPUT chain);
#   84: the client host drops the SYN-ACKs (its INPUT chain).
# Then loopback.pcap: the server host's tcpdump -i any while it connects
# to itself (through lo, where each packet is recorded sent and then
# received): 80 established, 81 refused, 89 its INPUT chain drops the
# SYNs arriving on lo.
# Documentation addresses, namespaces of our own (ONELINK_NS, default ol,
# names them).
set -u
P=${ONELINK_NS:-ol}
C=$P-c S=$P-s OUT=$1
for ns in $C $S; do
  ip netns del $ns 2>/dev/null
  ip netns add $ns; ip -n $ns link set lo up
  ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n $C link add eth0 address 02:00:00:00:04:10 type veth peer name eth0 address 02:00:00:00:04:20 netns $S
ip -n $C addr add 198.51.100.10/24 dev eth0; ip -n $S addr add 198.51.100.20/24 dev eth0
for ns in $C $S; do
  ip netns exec $ns ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1; ip -n $ns link set eth0 up
done
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $S iptables -A INPUT -p tcp --dport 82 --tcp-flags SYN,ACK SYN -j DROP
ip netns exec $C iptables -A INPUT -p tcp -s 198.51.100.20 --sport 84 --tcp-flags SYN,ACK SYN,ACK -j DROP
ip netns exec $S iptables -A INPUT -i lo -p tcp --dport 89 --tcp-flags SYN,ACK SYN -j DROP
ip netns exec $S sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $S python3 -c "
import socket,sys,threading,time
def srv(p):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.20',p)); s.listen(16)
    while True:
        c,_=s.accept(); d=c.recv(100); c.sendall(b'ok '+d); c.close()
for p in (80, 84): threading.Thread(target=srv,args=(p,),daemon=True).start()
time.sleep(60)" & SRV=$!
sleep 0.5
ip netns exec $C tcpdump -i any -n -w "$OUT/client.pcap" -U tcp or icmp 2>/dev/null & T1=$!
ip netns exec $S tcpdump -i any -n -w "$OUT/server.pcap" -U tcp or icmp 2>/dev/null & T2=$!
sleep 1
ip netns exec $C python3 -c "
import socket,threading
def dial(p):
    try:
        s=socket.create_connection(('198.51.100.20',p),timeout=20); s.sendall(b'hello'); print(p, s.recv(100)); s.close()
    except Exception as e: print(p, e)
ts=[threading.Thread(target=dial,args=(p,)) for p in (80, 81, 82, 84)]
for t in ts: t.start()
for t in ts: t.join()
"
sleep 1
kill $T1 $T2; sleep 0.5
ip netns exec $S tcpdump -i any -n -w "$OUT/loopback.pcap" -U tcp 2>/dev/null & T3=$!
sleep 1
ip netns exec $S python3 -c "
import socket,threading
def dial(p):
    try:
        s=socket.create_connection(('198.51.100.20',p),timeout=20); s.sendall(b'hello'); print('lo', p, s.recv(100)); s.close()
    except Exception as e: print('lo', p, e)
ts=[threading.Thread(target=dial,args=(p,)) for p in (80, 81, 89)]
for t in ts: t.start()
for t in ts: t.join()
"
sleep 1
kill $T3; sleep 0.5
kill $SRV 2>/dev/null
for ns in $C $S; do ip netns del $ns 2>/dev/null; done
