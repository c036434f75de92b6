#!/bin/bash
# Makes MODE-client.pcap and MODE-server.pcap: bash make.sh OUTDIR MODE
# (root; tcpdump, ip6tables, curl, python3). TestHappyEyeballs reads them.
# The lab's three namespaces, dual-stack: the client resolves
# www.example.test to 2001:db8:2::5 and 203.0.113.5 (its own /etc/hosts)
# and curl races the two (Happy Eyeballs: IPv6 first, IPv4 200 ms later),
# three times, a second apart. MODE drop: the router drops IPv6 to port
# 80, so the IPv6 SYN is never answered and curl connects over IPv4.
# MODE late: the router drops the server's first IPv6 SYN-ACK of each
# connection; the server resends it a second later, when curl has
# connected over IPv4 and closed the IPv6 socket: the client's kernel
# answers it with a RST. Documentation addresses, namespaces of our own.
set -u
C=he-c R=he-r S=he-s OUT=$1 MODE=$2
. "$(dirname "$0")/../topo.sh"
topo $C $R $S
for ns in $C $R $S; do
  ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n $C addr add 2001:db8:1::10/64 dev eth0 nodad; ip -n $R addr add 2001:db8:1::1/64 dev eth-c nodad
ip -n $R addr add 2001:db8:2::1/64 dev eth-s nodad; ip -n $S addr add 2001:db8:2::5/64 dev eth0 nodad
ip -n $C -6 route add default via 2001:db8:1::1; ip -n $S -6 route add default via 2001:db8:2::1
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
mkdir -p /etc/netns/$C
printf '2001:db8:2::5 www.example.test\n203.0.113.5 www.example.test\n' > /etc/netns/$C/hosts
case $MODE in
drop) ip netns exec $R ip6tables -A FORWARD -p tcp --dport 80 -j DROP || exit 1 ;;
late) ip netns exec $R ip6tables -A FORWARD -p tcp --sport 80 --tcp-flags SYN,ACK SYN,ACK \
        -m statistic --mode nth --every 2 --packet 0 -j DROP || exit 1 ;;
esac
ip netns exec $S python3 -c "
import socket,threading,time
def srv(fam,a):
    s=socket.socket(fam); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((a,80)); s.listen(16)
    while True:
        c,_=s.accept(); c.recv(1000); c.sendall(b'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'); c.close()
threading.Thread(target=srv,args=(socket.AF_INET,'203.0.113.5'),daemon=True).start()
threading.Thread(target=srv,args=(socket.AF_INET6,'2001:db8:2::5'),daemon=True).start()
time.sleep(30)" &
SRV=$!
sleep 1
ip netns exec $C tcpdump -i eth0 -n -w $OUT/$MODE-client.pcap -U --immediate-mode tcp or icmp or icmp6 2>/dev/null & T1=$!
ip netns exec $S tcpdump -i eth0 -n -w $OUT/$MODE-server.pcap -U --immediate-mode tcp or icmp or icmp6 2>/dev/null & T2=$!
sleep 1
for i in 1 2 3; do
  ip netns exec $C curl -s -o /dev/null -w "%{remote_ip} %{http_code} %{time_connect}\n" http://www.example.test/
  sleep 1
done
sleep 3
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
rm -rf /etc/netns/$C
