#!/bin/bash
# Makes client.pcap and server.pcap, timewait-client.pcap and
# timewait-server.pcap, timewait-whole-client.pcap and
# timewait-whole-server.pcap: bash make.sh OUTDIR (root; tcpdump, iptables,
# python3). TestStaleConnection reads them.
# The server holds connections the client has forgotten: the client
# connects from ports 40001-40003, sends a request, and closes each with a
# RST that its own firewall drops, so the server keeps them established.
# Then the client connects again from the same ports, and the server
# answers each SYN with the earlier connection's ACK, which the client's
# stack answers with a RST:
#   40001: the RST reaches the server, which drops the connection; the
#          next SYN is answered (established);
#   40002: the router drops the client's RSTs (a stateful firewall taking
#          them for invalid): connect() times out, lost on the way out;
#   40003: the client's firewall drops the server's ACKs, so its stack
#          never resets the connection: connect() times out, at the client.
# The timewait- pair: the client uploads 48 MB from port 40010 with TCP
# timestamps off, the server closes first and keeps the connection in
# TIME_WAIT, and the client connects again from 40010 a second later: its
# new ISN is behind what it sent, so the server answers with the TIME_WAIT
# ACK; with net.ipv4.tcp_rfc1337=1 it ignores the client's RSTs, and
# connect() times out, at the server. The captures start after the upload,
# as an engineer's often do: the earlier connection has no SYN in them.
# Documentation addresses, namespaces of our own.
set -u
C=st-c R=st-r S=st-s OUT=$1
. "$(dirname "$0")/../topo.sh"
# timewait SIZE MORE: the topology again, the client without TCP
# timestamps, and a server (SRV) that reads SIZE bytes of each connection
# (and MORE bytes after them), answers "ok" and closes first, keeping the
# connection in TIME_WAIT, where net.ipv4.tcp_rfc1337=1 ignores RSTs.
timewait() {
  topo $C $R $S
  ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=3 net.ipv4.tcp_syn_linear_timeouts=0 net.ipv4.tcp_timestamps=0 2>/dev/null
  ip netns exec $S sysctl -qw net.ipv4.tcp_rfc1337=1
  ip netns exec $S python3 -c "
import socket,sys
size,more=int(sys.argv[1]),int(sys.argv[2])
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('203.0.113.5',80)); s.listen(16)
while True:
    c,_=s.accept(); n=0
    while n < size:
        d=c.recv(1<<20)
        if not d: break
        n+=len(d)
    if more: c.recv(more)
    c.sendall(b'ok'); c.close()
" "$1" "$2" & SRV=$!
}

topo $C $R $S
ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=3 net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null
ip netns exec $S python3 -c "
import socket,threading
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('203.0.113.5',80)); s.listen(16)
held=[]
def serve(c):
    while True:
        try: d=c.recv(100)
        except OSError: return
        if not d: return
        c.sendall(b'ok '+d)
while True:
    c,_=s.accept(); held.append(c); threading.Thread(target=serve,args=(c,),daemon=True).start()
" & SRV=$!
capture $C $S $OUT
ip netns exec $C iptables -A OUTPUT -p tcp --dport 80 --tcp-flags RST RST -j DROP
ip netns exec $C python3 -c "
import socket,struct
for p in (40001,40002,40003):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.10',p))
    s.connect(('203.0.113.5',80)); s.sendall(b'one'); s.recv(100)
    s.setsockopt(socket.SOL_SOCKET,socket.SO_LINGER,struct.pack('ii',1,0)); s.close()
"
sleep 0.5
ip netns exec $C iptables -F OUTPUT
ip netns exec $R iptables -A FORWARD -p tcp --sport 40002 --tcp-flags RST RST -j DROP
ip netns exec $C iptables -A INPUT -p tcp --sport 80 --dport 40003 --tcp-flags SYN,ACK,RST ACK -j DROP
PIDS=
for p in 40001 40002 40003; do
  ip netns exec $C python3 -c "
import socket,sys,time
p=int(sys.argv[1]); t=time.time()
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.10',p))
try:
    s.settimeout(30); s.connect(('203.0.113.5',80)); s.sendall(b'two'); print(p, s.recv(100), round(time.time()-t,3))
except Exception as e: print(p, e, round(time.time()-t,3))
" $p & PIDS="$PIDS $!"
  sleep 0.3
done
wait $PIDS; sleep 1
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S

timewait $((48<<20)) 1
sleep 0.5
ip netns exec $C python3 -c "
import socket,time,subprocess,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.10',40010))
s.connect(('203.0.113.5',80)); s.sendall(b'x'*(48<<20))
open('$OUT/.uploaded','w').close(); time.sleep(1.5)
s.sendall(b'.'); s.recv(10); time.sleep(0.1); s.close(); time.sleep(0.1)
t=time.time()
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.10',40010))
try:
    s.settimeout(30); s.connect(('203.0.113.5',80)); print('40010 connected', round(time.time()-t,3))
except Exception as e: print('40010', e, round(time.time()-t,3))
" &
CLI=$!
while [ ! -e $OUT/.uploaded ]; do sleep 0.05; done
rm -f $OUT/.uploaded
ip netns exec $C tcpdump -i eth0 -n -w $OUT/timewait-client.pcap -U tcp 2>/dev/null & T1=$!
ip netns exec $S tcpdump -i eth0 -n -w $OUT/timewait-server.pcap -U tcp 2>/dev/null & T2=$!
wait $CLI; sleep 1
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S

# The timewait-whole- pair: the same from port 40011, captured from before
# the earlier connection (2 MB uploaded, the ports reused at once; the
# capture keeps 64 bytes a packet), so that it shows the server closing
# that connection first.
timewait $((2<<20)) 0
sleep 0.5
ip netns exec $C tcpdump -i eth0 -n -s 64 -w $OUT/timewait-whole-client.pcap -U tcp 2>/dev/null & T1=$!
ip netns exec $S tcpdump -i eth0 -n -s 64 -w $OUT/timewait-whole-server.pcap -U tcp 2>/dev/null & T2=$!
sleep 1
ip netns exec $C python3 -c "
import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.10',40011))
s.connect(('203.0.113.5',80)); s.sendall(b'x'*(2<<20))
while s.recv(10): pass  # to the server's FIN: it closes first, and holds the TIME_WAIT
s.close(); time.sleep(0.05)
t=time.time()
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('198.51.100.10',40011))
try:
    s.settimeout(30); s.connect(('203.0.113.5',80)); print('40011 connected', round(time.time()-t,3))
except Exception as e: print('40011', e, round(time.time()-t,3))
"
sleep 1
uncapture; kill $SRV 2>/dev/null
untopo $C $R $S
