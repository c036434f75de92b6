#!/bin/bash
# Makes client.pcap and server.pcap: bash make.sh OUTDIR (root; tcpdump,
# python3, go, a kernel with tc clsact and eBPF). TestDamagedChecksum reads
# them. The router damages some handshake segments on their way (labnet
# corrupt: a tc eBPF program rewrites their urgent pointer and leaves the
# checksum wrong), as a faulty link or a middlebox rewriting packets
# without fixing the checksum would; the receiver's stack discards them:
#   81: the SYN-ACKs, on the way back: the client resends its SYN until
#       connect() times out (the client capture holds every SYN-ACK);
#   82: the SYNs, on the way out: the server never answers (its capture
#       holds every SYN);
#   80: untouched.
# Documentation addresses, namespaces of our own.
set -u
C=ck-c R=ck-r S=ck-s OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../topo.sh"
LABNET=$(mktemp -d)/labnet
(cd "$HERE/../../.." && go build -o "$LABNET" ./testdata/lab/labnet) || exit 1
topo $C $R $S
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
for spec in "eth-c -port 81 -flags 0x12" "eth-s -dst -port 82 -flags 0x02"; do
  set -- $spec; dev=$1; shift
  ip netns exec $R unshare -m --propagation private sh -ec "
    mount -t bpf bpf /sys/fs/bpf
    '$LABNET' corrupt $* -pin /sys/fs/bpf/corrupt
    tc qdisc add dev $dev clsact 2>/dev/null || true
    tc filter add dev $dev egress bpf object-pinned /sys/fs/bpf/corrupt direct-action" || exit 1
done
echoserve $S 80 81 82
capture $C $S $OUT
ip netns exec $C python3 -c "
import socket,threading
def dial(p):
    try:
        s=socket.create_connection(('203.0.113.5',p),timeout=20); s.sendall(b'hello'); print(p, s.recv(100)); s.close()
    except Exception as e: print(p, e)
ts=[threading.Thread(target=dial,args=(p,)) for p in (80,81,82)]
for t in ts: t.start()
for t in ts: t.join()
"
sleep 1
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
rm -rf "$(dirname "$LABNET")"
