# Sourced by the make.sh scripts beside it: topo C R S makes the lab's
# three namespaces, client 198.51.100.10 — router — server 203.0.113.5,
# two veth pairs, no offloads, the router forwarding; untopo C R S
# removes them. echoserve NS PORT... starts an echo server in NS.
# capture C S OUT starts tcpdump on the client's and the server's
# interface into OUT/client.pcap and OUT/server.pcap, once the servers
# are up; uncapture stops them. Documentation addresses, namespaces of
# our own.
topo() {
  local C=$1 R=$2 S=$3 ns p
  untopo "$C" "$R" "$S"
  for ns in $C $R $S; do
    ip netns add $ns; ip -n $ns link set lo up
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n $C link add eth0 address 02:00:00:00:01:10 type veth peer name eth-c address 02:00:00:00:01:01 netns $R
  ip -n $S link add eth0 address 02:00:00:00:02:05 type veth peer name eth-s address 02:00:00:00:02:01 netns $R
  ip -n $C addr add 198.51.100.10/24 dev eth0; ip -n $R addr add 198.51.100.1/24 dev eth-c
  ip -n $R addr add 203.0.113.1/24 dev eth-s; ip -n $S addr add 203.0.113.5/24 dev eth0
  for p in "$C eth0" "$R eth-c" "$R eth-s" "$S eth0"; do
    set -- $p
    ip netns exec $1 ethtool -K $2 tx off tso off gso off gro off >/dev/null 2>&1; ip -n $1 link set $2 up
  done
  ip -n $C route add default via 198.51.100.1; ip -n $S route add default via 203.0.113.1
  ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
}

untopo() {
  local ns
  for ns in "$@"; do ip netns del $ns 2>/dev/null; done
}

capture() {
  sleep 0.5
  ip netns exec $1 tcpdump -i eth0 -n -w $3/client.pcap -U tcp or icmp 2>/dev/null & T1=$!
  ip netns exec $2 tcpdump -i eth0 -n -w $3/server.pcap -U tcp or icmp 2>/dev/null & T2=$!
  sleep 1
}

uncapture() {
  kill $T1 $T2; sleep 0.5
}

# echoserve NS PORT...: in NS, a server on 203.0.113.5 that answers each
# connection's first read with "ok " and it, then closes; SRV is its pid.
echoserve() {
  local ns=$1; shift
  ip netns exec $ns python3 -c "
import socket,sys,threading,time
def srv(p):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('203.0.113.5',p)); s.listen(16)
    while True:
        c,_=s.accept(); d=c.recv(100); c.sendall(b'ok '+d); c.close()
for p in sys.argv[1:]: threading.Thread(target=srv,args=(int(p),),daemon=True).start()
time.sleep(60)" "$@" &
  SRV=$!
}
