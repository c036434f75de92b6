#!/usr/bin/env bash
# synpath scenario lab: real TCP handshakes between network namespaces, captured on
# the client's and the server's interface, with faults injected by iptables/tc.
#
# usage (root): bash testdata/lab/run.sh OUTDIR [SCENARIO...]
#   writes OUTDIR/<scenario>/{client,server}.<ext> + truth.json and OUTDIR/README.md.
#   Without scenario names it runs them all; `run.sh --list` prints the names.
#   LAB_JOBS=N sets how many scenarios run at once (default 6); LAB_KEEP=1 keeps the work dir.
#   LAB_OFFLOADS=1 leaves the veths' offloads as the kernel sets them (checksum, TSO, GSO on):
#   captures as a host with default settings makes them, with unfinished checksums and
#   segments larger than the MSS. The lab's truths assume none; the verdicts must not care.
#
# Every scenario gets its own namespaces synpath-<scenario>-{c,r,s} (client, router,
# server; far-server adds n, a host in front of the server across a delayed link), so
# scenarios run in parallel without seeing each other. Addresses are
# documentation ranges only; no packet leaves the namespaces this script creates, and
# it removes them (and only them) on every exit, including leftovers of a killed run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

# ---- the scenarios: name and one README line (what fault, how made) ----
SCENARIOS=(
  established refused outbound-drop server-silent return-drop return-drop-exp return-icmp path-rst
  icmp-host-unreach icmp-admin-prohibited icmp-port-unreach transient-loss half-open
  stalled reset client-abort nat-snat nat-dnat clock-skew ipv6-established ipv6-refused
  ipv6-drop mixed fmt-pcapng fmt-nano fmt-sll2 fmt-sll1 fmt-vlan fmt-snap64 fmt-gzip
  backlog-syncookies backlog-nosyncookies backlog-abort-on-overflow
  late-server-capture early-stop-server-capture short-connect-timeout capture-ends-at-last-syn
  client-firewall merged rotated same-subnet syn-proxy happy-eyeballs nat-bypass
  pmtu-black-hole sni-blocked dns gateway-error backlog-abort-nosyncookies far-server far-reset
)
declare -A DESC=(
  [established]="request/response on port 80 and a clean FIN close, twice"
  [refused]="nothing listens on port 81: the server kernel answers RST (after a reference connection to port 80 for the TTL)"
  [outbound-drop]="router drops client→server SYNs to port 80 (default linear SYN retransmission: 6 SYNs 1 s apart with tcp_syn_retries=2)"
  [server-silent]="SYNs reach the server host and are dropped in its INPUT chain, after the capture point"
  [return-drop]="router drops server→client SYN-ACKs (linear SYN retransmission: 1 s apart)"
  [return-icmp]="router rejects server→client SYN-ACKs with ICMP host unreachable, sent back to the server (linear SYN retransmission: 1 s apart)"
  [return-drop-exp]="router drops server→client SYN-ACKs, client with net.ipv4.tcp_syn_linear_timeouts=0 (classic exponential SYN backoff 1, 2, 4 s)"
  [path-rst]="router answers SYNs to port 81 with iptables REJECT --reject-with tcp-reset (source = the server's address, TTL 64 where the server's own packets arrive with 63); reference connection to port 80 first"
  [icmp-host-unreach]="router answers SYNs to port 81 with ICMP host unreachable (iptables REJECT); reference connection to port 80 first"
  [icmp-admin-prohibited]="router answers SYNs to port 81 with ICMP communication administratively prohibited (iptables REJECT); reference connection to port 80 first"
  [icmp-port-unreach]="router answers SYNs to port 81 with ICMP port unreachable (iptables REJECT); reference connection to port 80 first"
  [transient-loss]="router drops only the first SYN of each attempt (iptables statistic nth --every 2 --packet 0), the retransmission gets through: two attempts"
  [half-open]="router drops the client's final ACK and data (client→server segments with ACK and without SYN, port 80): the server keeps resending its SYN-ACK"
  [stalled]="connected and request sent, the server application reads it and never replies; the client gives up after a 2 s read timeout and closes"
  [reset]="the server application reads the request and closes with SO_LINGER 0: its kernel sends RST"
  [client-abort]="the client sends raw SYNs from ports no socket owns (labnet rawsyn), so its kernel answers each SYN-ACK with RST (a netem-delayed SYN-ACK was not possible: this kernel has no sch_netem)"
  [nat-snat]="router SNATs the client to 192.0.2.1: port 80 established, port 82 dropped in the server's INPUT chain, port 83 SYN-ACKs dropped by the router"
  [nat-dnat]="client connects to 192.0.2.80, router DNATs it to 203.0.113.5: port 80 established, port 82 dropped in the server's INPUT chain, port 83 SYN-ACKs dropped by the router"
  [clock-skew]="server capture shifted by +37.25 s (editcap -t 37.25): port 80 established, 81 refused, 82 server INPUT drop, 83 SYN-ACKs dropped by the router"
  [ipv6-established]="IPv6: request/response and clean close"
  [ipv6-refused]="IPv6: nothing listens on port 81, the server kernel answers RST (reference connection to port 80 first)"
  [ipv6-drop]="IPv6: router drops client→server SYNs to port 82 and server→client SYN-ACKs from port 83"
  [mixed]="about 270 concurrent attempts across nine ports, each with its own fault: 80 open, 81 closed, 82 outbound SYN drop, 83 SYN-ACK drop, 84 router tcp-reset, 85 router ICMP admin-prohibited, 86 server INPUT drop, 87 server app silent (stalled), 88 server app resets"
  [fmt-pcapng]="pcapng (editcap -F pcapng of the tcpdump files): port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [fmt-nano]="nanosecond pcap (tcpdump --time-stamp-precision=nano): port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [fmt-sll2]="Linux cooked capture v2 (tcpdump -i any, LINKTYPE_LINUX_SLL2): port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [fmt-sll1]="Linux cooked capture v1 (tcpdump -i any -y LINUX_SLL): port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [fmt-vlan]="802.1Q: every veth pushes a VLAN tag on egress and pops it on ingress with a three-instruction tc eBPF program (labnet vlan; the kernel has neither 8021q nor act_vlan), VLAN 100 on the client link, 200 on the server link; port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [fmt-snap64]="snaplen 64 (tcpdump -s 64): port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [fmt-gzip]="gzip'd pcaps (client.pcap.gz, server.pcap.gz, gzip -n): port 80 established, 81 refused, 83 SYN-ACKs dropped by the router"
  [backlog-syncookies]="server listens with backlog 1 and never accepts, 20 concurrent clients, router→client slowed by tbf 16kbit (burst 80 bytes: one SYN-ACK at a time, about 37 ms each), syncookies on (1)"
  [backlog-nosyncookies]="server listens with backlog 1 and never accepts, 20 concurrent clients, router→client slowed by tbf 16kbit (burst 80 bytes: one SYN-ACK at a time, about 37 ms each), syncookies off (0)"
  [backlog-abort-on-overflow]="server listens with backlog 1 and never accepts, 20 concurrent clients, router→client slowed by tbf 16kbit (burst 80 bytes: one SYN-ACK at a time, about 37 ms each), tcp_abort_on_overflow=1"
  [backlog-abort-nosyncookies]="server listens with backlog 31 (its accept queue holds 32) and never accepts, 40 concurrent clients, router→client slowed by tbf 16kbit (burst 80 bytes: one SYN-ACK at a time, about 37 ms each), syncookies off (0) and tcp_abort_on_overflow=1: the first 32 handshakes take about 1.2 s to complete and fill the accept queue; the clients whose first SYN was dropped (SYN queue full, no cookies) retry 1 s later, get their SYN-ACK behind the others, and their final ACK finds the accept queue full: the server answers it at once with the listener's RST (no ACK flag), and never sends anything else on it: reset/server, cause accept-queue-full in every view (with syncookies on, as in backlog-abort-on-overflow, the overflowing handshakes are cookie ones, whose final ACK is dropped without a RST: half-open/server)"
  [late-server-capture]="the server's tcpdump starts about 4.5 s after the client's (a UDP marker right after it starts marks the server capture's first frame): before it, port 80 established and port 83 (router drops SYN-ACKs) given up by a 2.5 s connect timeout, both out of the server capture's view (their joined truth is the client capture's own); ports 82 (router drops SYNs) and 84 (router drops SYN-ACKs), 6 SYNs 1 s apart, straddle the start: their last SYNs are covered, and they are judged from what the covered part shows; after it, 80 established, 83 SYN-ACKs dropped by the router, 86 server INPUT drop. The server capture also holds SYN-ACKs the server retransmitted for the out-of-view port-83 attempt, whose SYN it never saw (not an attempt)"
  [early-stop-server-capture]="the server's tcpdump is stopped early (after a UDP marker), the client's goes on: before the stop port 80 established and 81 refused; after it, out of the server capture's view (their joined truth is the client capture's own): 80 established, 81 refused, 82 router drops SYNs, 83 router drops SYN-ACKs"
  [short-connect-timeout]="clients with a 3.5 s connect timeout and the classic exponential SYN backoff (tcp_syn_linear_timeouts=0: SYNs at 0, 1, 3 s), captures stopped about 1 s after the clients give up: port 82 router drops SYNs, 83 router drops SYN-ACKs, 86 server INPUT drop"
  [capture-ends-at-last-syn]="as short-connect-timeout, but the client capture is cut right after the last SYN of the capture (editcap -B): it ends 3 s after each attempt's first SYN, with no marker"
  [client-firewall]="the client host's INPUT chain drops SYN-ACKs from port 80: tcpdump on the client sees them arrive, the client ignores them and retransmits its SYN until it times out"
  [merged]="port 80 established, 81 refused, 82 router drops SYNs, 83 router drops SYN-ACKs, 84 router tcp-reset; besides the two captures, both.pcap = mergecap -F pcap -w both.pcap client.pcap server.pcap (one file holding both vantages): given alone, it must give the both view"
  [rotated]="port 80 established (twice), 81 refused, 82 router drops SYNs, 83 router drops SYN-ACKs, 86 server INPUT drop, over about 8 s; the client capture split into 12 files by packet count (editcap -r) and named as tcpdump -C names rotations (client.pcap, client.pcap1, …, client.pcap11: lexical order puts client.pcap10 before client.pcap2); several attempts straddle file boundaries; the views are those of the unsplit capture"
  [pmtu-black-hole]="PMTU black hole on the way back: the router's client-side interface has MTU 1280 (the hosts 1500, so the client's SYN announces MSS 1460) and the router's own ICMP fragmentation-needed is dropped in its OUTPUT chain (offloads off everywhere); port 80 is the reference (small reply: established); on port 81 the client sends a small request and the server answers 20000 bytes in one write: its full-size segments (1500 bytes) vanish at the router and are retransmitted again and again, its small ones (pure ACKs) pass, so the client capture shows the handshake, the request and only small server segments: the ACK of the request and, after the client gives up (2.5 s read timeout) and closes (FIN), the ACK of its FIN, whose sequence number lies beyond a hole of about 16 kB at the reply's first byte (the server's reply data never shows there); the server capture shows its 1500-byte segments (the first ten and a tail probe) and the first one retransmitted with growing backoff, never acknowledged. Expected for port 81: both stalled/return-path proven, each capture alone stalled/return-path likely (the client's shows the hole, the server's its unacknowledged full-size segments retransmitted), cause pmtu-black-hole in all three views"
  [sni-blocked]="SNI filter: the router resets TLS connections whose ClientHello carries blocked.example (iptables string match, REJECT --reject-with tcp-reset: the RST has the server's address and TTL 64 where the server's own packets arrive with 63; the ClientHello itself is dropped). TLS server on 443 (labnet serve tls: Go TLS, a throwaway certificate for lab.example; the client offers X25519 only, so its ClientHello fits in one segment); one client connection with SNI allowed.example (handshake, request, \"OK\" reply, close: established) then one with SNI blocked.example (reset right after the ClientHello: cause blocked-after-client-hello; both: reset/outbound-path proven, rst_origin path; client alone: reset/outbound-path likely, rst_origin path, by the TTL). Server view of the blocked one: established/none proven, no cause: the server capture holds SYN, SYN-ACK and the final ACK and then nothing from that client (no ClientHello, no FIN, no RST: the client's socket died with the path's RST, the server application still waits), so from there the handshake completed and nothing visibly died; the filter cannot be seen. sni is the ClientHello's server name for both attempts"
  [dns]="a lab DNS server on 203.0.113.53 (UDP 53, labnet serve -dns, in the server namespace, so the server capture holds the DNS traffic too) and /etc/netns/synpath-dns-c/resolv.conf (nameserver 203.0.113.53, options timeout:1 attempts:2) for the client namespace; the client (labnet connect -to NAME:80: Go's own resolver, A queries only, then a connection to the first address) looks up in turn: ok.example (203.0.113.5: established, dns_name ok.example), nx.example (NXDOMAIN), fail.example (SERVFAIL), refused.example (REFUSED), silent.example (never answered: the client sends 2 queries, 1 s apart), stale.example with labnet connect -cached (first answer 203.0.113.7, where nothing is: the router drops everything to it; the client looks the name up once more, gets 203.0.113.5, and connects to its cached 203.0.113.7 anyway, giving up after a 3 s connect timeout: timeout with dns_name stale.example and cause dns, a stale cached address), then stale.example again (203.0.113.5: established, dns_name stale.example). dns_failed lists the four failed lookups (rcode NXDOMAIN, SERVFAIL, REFUSED, and \"\" with answered false for silent.example) with the number of queries the client sent for each (Go's resolver asks again at once after SERVFAIL and REFUSED, not after NXDOMAIN: 1, 2, 2, 2); the connection to 203.0.113.7 is out of the server capture's view (taken at 203.0.113.5, it never shows 203.0.113.7: coverage client-only), so its both view is its client view, timeout/unknown, and the server capture has no view of it; the stale attempt's cause is dns (a newer answer for the name, before the connect, no longer held the address), in the views that hold it (both, client)"
  [gateway-error]="HTTP gateway errors on working connections: labnet serve http-CODE on ports 80-83 answers GET / HTTP/1.1 (Host: gw.example) with 200, 502, 503 and 504 and Connection: close; the client sends the request and reads the reply. All four established/none proven in every view, http_host gw.example, http_status as served; cause gateway-error on 502, 503 and 504 in every view"
  [happy-eyeballs]="dual-stack client and server; the client races IPv6 against IPv4 as Happy Eyeballs does (labnet connect -fallback: [2001:db8:5::5]:80 first, 203.0.113.5:80 250 ms later, the first connected wins and the other connect is abandoned, its socket closed), 3 times 1 s apart; the router drops the server's first IPv6 SYN-ACK of each connection (ip6tables connmark: a connection's first SYN-ACK marks it and is dropped), so IPv4 wins and the server's resent IPv6 SYN-ACK, a second later, finds no socket: the client's kernel answers it with a RST. Expected for the IPv6 attempts: aborted/client in every view; the client capture names the IPv4 connection the client moved on to (fell_back_to)"
  [nat-bypass]="the router publishes 192.0.2.80 and DNATs it to the server 203.0.113.5, but the server's replies from port 80 skip its connection tracking (raw-table CT --notrack), so they leave untranslated, as a reply routed around the NAT would: the client's SYNs to 192.0.2.80:80 are answered by SYN-ACKs from 203.0.113.5:80, which its kernel resets, and connect() times out; port 81 is translated both ways (established). Expected for port 80: both timeout/return-path proven; the client capture alone timeout/unknown, the return path or the server (the answers prove the SYN got there); the server capture alone timeout/unknown, the return path or the client host, RST from the client"
  [far-server]="a server 80 ms away: the client connects to 192.0.2.80, a host (namespace n) that DNATs port 80 to the server 203.0.113.5 one hop behind it and refuses port 82 itself (nothing listens there), across a link that delays every frame 40 ms each way (labnet delay: a userspace bridge, this kernel having no sch_netem; offloads off on the bridged link whatever LAB_OFFLOADS says, the bridge passing frames as they are read); the router next to the client rejects port 81 with tcp-reset. Port 80 (three connections) established, about 80 ms; port 81 refused by the router in microseconds: its RST (TTL 64) is nearer than the server's SYN-ACKs (62) and came back far sooner than any of them, so the client capture alone says refused/outbound-path, likely, origin path (a quarter of the server's quickest handshake, and 5 ms less); port 82 refused by the DNAT host after 80 ms: its RST (TTL 63) is nearer than the SYN-ACKs too, but no sooner, as a container host or Kubernetes node refusing a port it does not forward would be: the client capture alone says refused/unknown, server or path. The server capture, taken at 203.0.113.5, holds 192.0.2.80's connections only as the DNAT host translated them: ports 81 and 82, never translated, are out of its view (coverage client-only), their joined view the client capture's own"
  [far-reset]="connections reset when they are first used, 80 ms from the server (the far-server topology: client, router, a 40 ms delay each way, the DNAT host 192.0.2.80 in front of the server). The client connects, leaves the connection idle 1.5 s (a pooled connection), then sends its request, synpath-again. Port 84: the router next to the client rejects it with tcp-reset (a firewall whose state for the connection expired): its RST (TTL 64, no ACK flag) is nearer than the server's SYN-ACK (62) and came back in microseconds after 1.5 s of silence, so the client capture alone says reset/outbound-path, likely, origin path. Port 85: the DNAT host lets the request bypass connection tracking (raw NOTRACK: as if it had lost the connection's state, a conntrack flush or a Kubernetes node's INVALID packet), so it reaches the host itself untranslated, which resets it (TTL 63): nearer than the SYN-ACK too, but back after the round trip the server's answers take, so the client capture alone says reset/unknown, server or path. Both captures prove the path for both: the server got neither request nor sent the RSTs. Port 80 (two connections) established, the reference"
  [syn-proxy]="netfilter SYNPROXY on the router for ports 80 and 81: the router answers the client's SYN itself (a SYN cookie, TTL 64: one hop closer than the server) and opens the connection to the server only after the client's ACK; port 80 served, port 81 closed: the server refuses the proxy's SYN and the proxy relays its RST (TTL 63) to the client, whose handshake had completed (reset). The client's SYN-ACKs and the proxy's SYN to the server arrive undecremented, so each capture alone is of unknown vantage. Expected for port 81: both reset/server proven; the client capture alone reset/unknown (a RST from farther than the SYN-ACK is no forger's: server and path the candidates); the server capture alone refused/server"
  [same-subnet]="client 198.51.100.10 and server 198.51.100.20 on one veth, no router: TTLs cannot tell which end a capture was taken at, so each capture alone is of unknown vantage and judged like a client-side one; port 80 established, 81 refused (after the reference connection to 80), 82 server INPUT drop"
)

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*"; }

if [ "${1:-}" = --list ]; then printf '%s\n' "${SCENARIOS[@]}"; exit 0; fi
[ $# -ge 1 ] || die "usage: run.sh OUTDIR [SCENARIO...]"
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, iptables, tcpdump)"
OUT=$1; shift
SEL=("$@")
[ ${#SEL[@]} -gt 0 ] || SEL=("${SCENARIOS[@]}")
for s in "${SEL[@]}"; do [ -n "${DESC[$s]:-}" ] || die "unknown scenario $s (see --list)"; done
JOBS=${LAB_JOBS:-6}

# ---- tools: install what is missing, never reinstall ----
ensure_tools() {
  local pkgs=() t p
  for t in tshark:tshark editcap:tshark tcpdump:tcpdump ip:iproute2 tc:iproute2 iptables:iptables \
           ip6tables:iptables ethtool:ethtool unshare:util-linux gzip:gzip ps:procps; do
    command -v "${t%%:*}" >/dev/null 2>&1 || pkgs+=("${t#*:}")
  done
  if [ ${#pkgs[@]} -gt 0 ]; then
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    log "installing ${pkgs[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"
  fi
  command -v go >/dev/null 2>&1 || die "go is needed to build testdata/lab/labnet"
}

# ---- cleanup: only our namespaces (and the processes inside them) ----
del_ns() {
  local ns pid
  for ns in "$@"; do
    case $ns in synpath-*) rm -rf "/etc/netns/$ns" ;; esac # a resolver the lab made for it (dns)
    [ -e "/run/netns/$ns" ] || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
all_ns() { local s; for s in "${SEL[@]}"; do echo "synpath-$s-c synpath-$s-r synpath-$s-s synpath-$s-n"; done; }

WORKERS=()
TMP=
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  # Our workers and everything they started, by PID (never by name).
  local tree=() more
  if [ ${#WORKERS[@]} -gt 0 ]; then
    tree=("${WORKERS[@]}")
    local i=0
    while [ $i -lt ${#tree[@]} ]; do
      for more in $(ps -o pid= --ppid "${tree[$i]}" 2>/dev/null); do tree+=("$more"); done
      i=$((i + 1))
    done
    for pid in "${tree[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  fi
  # shellcheck disable=SC2046
  del_ns $(all_ns)
  if [ -n "$TMP" ]; then if [ -n "${LAB_KEEP:-}" ]; then echo "lab: kept $TMP" >&2; else rm -rf "$TMP"; fi; fi
  exit "$rc"
}

# ---- one scenario (runs in its own subshell) ----
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# no_offloads NS DEV: segments as the wire carries them, checksums filled in (unless LAB_OFFLOADS).
no_offloads() {
  [ -n "${LAB_OFFLOADS:-}" ] && return
  nsx "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

# topo [v6]: client — router — server, two veth pairs, static neighbours, no offloads.
topo() {
  local v6=${1:-} ns
  del_ns "$C" "$R" "$S"
  for ns in "$C" "$R" "$S"; do
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
    if [ -z "$v6" ]; then
      nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    else
      nsx "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
        net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
    fi
  done
  ip -n "$C" link add eth0 address 02:00:00:00:01:10 type veth peer name eth-c address 02:00:00:00:01:01 netns "$R"
  ip -n "$S" link add eth0 address 02:00:00:00:02:05 type veth peer name eth-s address 02:00:00:00:02:01 netns "$R"
  nsx "$C" ip addr add 198.51.100.10/24 dev eth0
  nsx "$R" ip addr add 198.51.100.1/24 dev eth-c
  nsx "$R" ip addr add 203.0.113.1/24 dev eth-s
  nsx "$S" ip addr add 203.0.113.5/24 dev eth0
  if [ -n "$v6" ]; then
    nsx "$C" ip addr add 2001:db8:c::10/64 dev eth0 nodad
    nsx "$R" ip addr add 2001:db8:c::1/64 dev eth-c nodad
    nsx "$R" ip addr add 2001:db8:5::1/64 dev eth-s nodad
    nsx "$S" ip addr add 2001:db8:5::5/64 dev eth0 nodad
  fi
  local pair
  for pair in "$C eth0" "$R eth-c" "$R eth-s" "$S eth0"; do
    set -- $pair
    no_offloads "$1" "$2"
    nsx "$1" ip link set "$2" up
  done
  nsx "$C" ip route add default via 198.51.100.1
  nsx "$S" ip route add default via 203.0.113.1
  nsx "$C" ip neigh replace 198.51.100.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
  nsx "$R" ip neigh replace 198.51.100.10 lladdr 02:00:00:00:01:10 dev eth-c nud permanent
  nsx "$R" ip neigh replace 203.0.113.5 lladdr 02:00:00:00:02:05 dev eth-s nud permanent
  nsx "$S" ip neigh replace 203.0.113.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
  if [ -n "$v6" ]; then
    nsx "$C" ip -6 route add default via 2001:db8:c::1
    nsx "$S" ip -6 route add default via 2001:db8:5::1
    nsx "$C" ip neigh replace 2001:db8:c::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
    nsx "$R" ip neigh replace 2001:db8:c::10 lladdr 02:00:00:00:01:10 dev eth-c nud permanent
    nsx "$R" ip neigh replace 2001:db8:5::5 lladdr 02:00:00:00:02:05 dev eth-s nud permanent
    nsx "$S" ip neigh replace 2001:db8:5::1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
    nsx "$R" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
  fi
  nsx "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000
  # A connect timeout takes ~7 s here: with the default tcp_syn_linear_timeouts=4 this
  # kernel sends 6 SYNs 1 s apart (the linear retries come on top of tcp_syn_retries=2);
  # with tcp_syn_linear_timeouts=0, 3 SYNs at 0, 1, 3 s and ETIMEDOUT at 7 s.
  nsx "$C" sysctl -qw net.ipv4.tcp_syn_retries=2
  MARK=203.0.113.5:9
  SERVE_UDP=(-udp 203.0.113.5:9)
  if [ -n "$v6" ]; then MARK=[2001:db8:5::5]:9; SERVE_UDP=(-udp "[2001:db8:5::5]:9"); fi
}

# topo_flat: client 198.51.100.10 and server 198.51.100.20 on one veth pair, no
# router (the router namespace is not made), static neighbours, no offloads.
topo_flat() {
  local ns
  del_ns "$C" "$R" "$S"
  for ns in "$C" "$S"; do
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n "$C" link add eth0 address 02:00:00:00:01:10 type veth peer name eth0 address 02:00:00:00:01:20 netns "$S"
  nsx "$C" ip addr add 198.51.100.10/24 dev eth0
  nsx "$S" ip addr add 198.51.100.20/24 dev eth0
  for ns in "$C" "$S"; do
    no_offloads "$ns" eth0
    nsx "$ns" ip link set eth0 up
  done
  nsx "$C" ip neigh replace 198.51.100.20 lladdr 02:00:00:00:01:20 dev eth0 nud permanent
  nsx "$S" ip neigh replace 198.51.100.10 lladdr 02:00:00:00:01:10 dev eth0 nud permanent
  nsx "$C" sysctl -qw net.ipv4.tcp_syn_retries=2
  MARK=198.51.100.20:9
  SERVE_UDP=(-udp 198.51.100.20:9)
}

# topo_far: client — router — [40 ms each way] — n (192.0.2.80, DNAT host) — server.
# n holds both ends of the long link: wan (the router's peer) and lan (eth0's peer),
# bridged by labnet delay; eth0 has n's address. Offloads are off on the bridged
# link whatever LAB_OFFLOADS says: the bridge passes frames as it reads them, and a
# checksum left to the NIC, or a segment larger than the MTU, would cross unfinished.
topo_far() {
  local ns spec
  del_ns "$C" "$R" "$N" "$S"
  for ns in "$C" "$R" "$N" "$S"; do
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n "$C" link add eth0 address 02:00:00:00:01:10 type veth peer name eth-c address 02:00:00:00:01:01 netns "$R"
  ip -n "$R" link add eth-n address 02:00:00:00:03:01 type veth peer name wan address 02:00:00:00:03:02 netns "$N"
  ip -n "$N" link add eth0 address 02:00:00:00:03:80 type veth peer name lan address 02:00:00:00:03:03
  ip -n "$N" link add eth-s address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:05 netns "$S"
  nsx "$C" ip addr add 198.51.100.10/24 dev eth0
  nsx "$R" ip addr add 198.51.100.1/24 dev eth-c
  nsx "$R" ip addr add 192.0.2.1/24 dev eth-n
  nsx "$N" ip addr add 192.0.2.80/24 dev eth0
  nsx "$N" ip addr add 203.0.113.1/24 dev eth-s
  nsx "$S" ip addr add 203.0.113.5/24 dev eth0
  for spec in "$C eth0" "$R eth-c" "$R eth-n" "$N wan" "$N lan" "$N eth0" "$N eth-s" "$S eth0"; do
    set -- $spec
    case $2 in
      eth-n|wan|lan) nsx "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true ;;
      eth0) if [ "$1" = "$N" ]; then nsx "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true; else no_offloads "$1" "$2"; fi ;;
      *) no_offloads "$1" "$2" ;;
    esac
    nsx "$1" ip link set dev "$2" up
  done
  nsx "$C" ip route add default via 198.51.100.1
  nsx "$N" ip route add default via 192.0.2.1
  nsx "$S" ip route add default via 203.0.113.1
  nsx "$C" ip neigh replace 198.51.100.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
  nsx "$R" ip neigh replace 198.51.100.10 lladdr 02:00:00:00:01:10 dev eth-c nud permanent
  nsx "$R" ip neigh replace 192.0.2.80 lladdr 02:00:00:00:03:80 dev eth-n nud permanent
  nsx "$N" ip neigh replace 192.0.2.1 lladdr 02:00:00:00:03:01 dev eth0 nud permanent
  nsx "$N" ip neigh replace 203.0.113.5 lladdr 02:00:00:00:02:05 dev eth-s nud permanent
  nsx "$S" ip neigh replace 203.0.113.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
  nsx "$R" sysctl -qw net.ipv4.ip_forward=1
  nsx "$N" sysctl -qw net.ipv4.ip_forward=1
  nsx "$C" sysctl -qw net.ipv4.tcp_syn_retries=2
  ip netns exec "$N" "$LABNET" delay -a wan -b lan -d 40ms >"$W/delay.out" 2>&1 &
  local i
  for i in $(seq 100); do grep -qs ready "$W/delay.out" && break; sleep 0.05; done
  grep -qs ready "$W/delay.out" || die "labnet delay did not start: $(cat "$W/delay.out")"
  MARK=192.0.2.80:9
  SERVE_UDP=(-udp 203.0.113.5:9)
}

exponential_syn() {
  if nsx "$C" test -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts; then
    nsx "$C" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
  fi
}

# fault ROLE CMD...: run CMD in the role's namespace (c, r, s) and record it.
fault() {
  local role=$1; shift
  local ns; case $role in c) ns=$C ;; r) ns=$R ;; s) ns=$S ;; n) ns=$N ;; esac
  nsx "$ns" "$@"
  FAULT+="${FAULT:+; }ip netns exec synpath-$role $*"
}

serve() {
  # Started with ip netns exec directly (no shell function), so $! is the server's PID.
  ip netns exec "$S" "$LABNET" serve "$@" "${SERVE_UDP[@]}" >"$W/serve.out" 2>&1 &
  SRV_PID=$!
  local i
  for i in $(seq 100); do grep -qs ready "$W/serve.out" && return 0; sleep 0.05; done
  cat "$W/serve.out" >&2; die "server did not start"
}

cli() { nsx "$C" "$LABNET" connect "$@" >>"$W/client.jsonl"; }
# both A B: one attempt to each at the same time (never a bare `wait`: the server and
# the tcpdumps are background jobs too).
both() { cli -to "$1" & local p=$!; cli -to "$2"; wait "$p"; }

# cap_start: tcpdump on the client's interface (in the client namespace) and on the
# server's interface (in the server namespace). CAP_IF, CAP_OPTS come from the scenario.
# Both begin with a UDP marker exchange (labnet mark), so that each file's first
# frame shows when it started: its span covers every SYN that follows, even the
# ones that never reached it.
cap_start() {
  cap_start_side client
  cap_start_side server
  sleep 0.2
  marker
}

# marker: one UDP exchange client → server port 9 and back.
marker() { nsx "$C" "$LABNET" mark -to "$MARK" || die "marker got no echo"; }

# cap_start_side client|server: one side's tcpdump, returns once it listens.
cap_start_side() {
  local side=$1 ns i
  [ "$side" = client ] && ns=$C || ns=$S
  # shellcheck disable=SC2086
  ip netns exec "$ns" tcpdump -i "${CAP_IF:-eth0}" -n -Z root --immediate-mode -U -B 65536 ${CAP_OPTS:-} \
    -w "$W/$side.raw" 2>"$W/tcpdump-$side.log" &
  echo $! >"$W/tcpdump-$side.pid"
  for i in $(seq 200); do
    grep -q "listening on" "$W/tcpdump-$side.log" && break
    sleep 0.05
  done
  grep -q "listening on" "$W/tcpdump-$side.log" || die "tcpdump ($side) did not start: $(cat "$W/tcpdump-$side.log")"
}

cap_stop() {
  cap_stop_side client
  cap_stop_side server
}

# cap_stop_side client|server: stop one side's tcpdump (once; later calls do nothing).
cap_stop_side() {
  local side=$1 pid
  [ -e "$W/tcpdump-$side.pid" ] || return 0
  pid=$(cat "$W/tcpdump-$side.pid")
  rm -f "$W/tcpdump-$side.pid"
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  grep -q "^0 packets dropped by kernel" "$W/tcpdump-$side.log" ||
    die "tcpdump ($side) dropped packets: $(cat "$W/tcpdump-$side.log")"
}

# finish: ~3 s of capture after the last client activity, then a UDP marker exchange
# (so each file shows that the capture went on), stop, post-process, judge, publish.
finish() {
  sleep "${TAIL:-3}"
  nsx "$C" "$LABNET" mark -to "$MARK" || die "end-of-capture marker got no echo"
  sleep 0.3
  cap_stop
  kill "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  local o=$W/out cf=client.pcap sf=server.pcap off=0 extra=()
  mkdir -p "$o"
  case ${POST:-} in
    pcapng) cf=client.pcapng sf=server.pcapng
            editcap -F pcapng "$W/client.raw" "$o/$cf"; editcap -F pcapng "$W/server.raw" "$o/$sf" ;;
    gzip)   cf=client.pcap.gz sf=server.pcap.gz
            gzip -n -9 -c "$W/client.raw" >"$o/$cf"; gzip -n -9 -c "$W/server.raw" >"$o/$sf" ;;
    skew)   off=37.25
            cp "$W/client.raw" "$o/$cf"; editcap -t "$off" "$W/server.raw" "$o/$sf" ;;
    merged) cp "$W/client.raw" "$o/$cf"; cp "$W/server.raw" "$o/$sf"
            mergecap -F pcap -w "$o/both.pcap" "$o/$cf" "$o/$sf"
            extra+=(-merged-file both.pcap) ;;
    rotate) cp "$W/server.raw" "$o/$sf"
            extra+=(-client-files "$(rotate_split "$W/client.raw" "$o" client.pcap 12)") ;;
    cutlastsyn)
            cp "$W/server.raw" "$o/$sf"
            cut_after_last_syn "$W/client.raw" "$o/$cf" ;;
    *)      cp "$W/client.raw" "$o/$cf"; cp "$W/server.raw" "$o/$sf" ;;
  esac
  [ -z "${VANTAGE:-}" ] || extra+=(-vantage "$VANTAGE")
  "$LABNET" truth -dir "$o" -scenario "$NAME" -desc "${DESC[$NAME]}${DESC_EXTRA:-}" -fault "${FAULT:-none}" \
    -client-file "$cf" -server-file "$sf" -clock-offset "$off" -kinds "$KINDS" -client-log "$W/client.jsonl" "${extra[@]}"
  local f
  for f in "$o"/*; do
    [ "$(stat -c %s "$f")" -le 1048576 ] || die "$f is larger than 1 MB"
  done
  rm -rf "${OUT:?}/$NAME.tmp"
  cp -r "$o" "$OUT/$NAME.tmp"
  rm -rf "${OUT:?}/$NAME"
  mv "$OUT/$NAME.tmp" "$OUT/$NAME"
  del_ns "$C" "$R" "$S" "$N"
}

# rotate_split IN DIR BASE N: split IN into N files of (nearly) equal packet counts,
# named as tcpdump -C names its rotations (BASE, BASE1, BASE2, ...); prints the names
# in rotation order, comma-separated.
rotate_split() {
  local in=$1 dir=$2 base=$3 n=$4 total i a b name names=()
  total=$(capinfos -c -M -T "$in" | awk -F'\t' 'NR==2 {print $2}')
  [ "$total" -ge "$n" ] || die "$in has $total packets, fewer than $n files"
  for ((i = 0; i < n; i++)); do
    a=$((i * total / n + 1)) b=$(((i + 1) * total / n))
    name=$base; [ $i -eq 0 ] || name=$base$i
    editcap -F pcap -r "$in" "$dir/$name" "$a-$b"
    names+=("$name")
  done
  (IFS=,; echo "${names[*]}")
}

# cut_after_last_syn IN OUT: OUT is IN up to and including its last client SYN
# (editcap -B keeps frames strictly before the given time: 1 µs after the SYN).
cut_after_last_syn() {
  local in=$1 out=$2 t last
  t=$(tshark -n -r "$in" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e frame.time_epoch | tail -1)
  [ -n "$t" ] || die "no SYN in $in"
  editcap -F pcap -B "$(awk -v t="$t" 'BEGIN { printf "%.6f", t + 0.000001 }')" "$in" "$out"
  last=$(tshark -n -r "$out" -T fields -e frame.time_epoch -e tcp.flags | tail -1)
  [ "$last" = "$t	0x0002" ] || die "cut capture ends with '$last', not the SYN at $t"
}

# Reference connection + refused + return-drop: the traffic of the format variants.
three_kinds() {
  topo
  if [ -n "${VLAN:-}" ]; then vlan_on; fi
  fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
  serve -l 203.0.113.5:80,echo -l 203.0.113.5:83,echo
  KINDS=80=ok,81=refused,83=ret-drop
  cap_start
  cli -to 203.0.113.5:80
  cli -to 203.0.113.5:81
  cli -to 203.0.113.5:83
  finish
}

# path_reject REJECT-ARGS: reference connection to 80, then two attempts at 81, which
# the router rejects (the server listens there too, so only the path refuses).
path_reject() {
  topo
  fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 81 -j REJECT "$@"
  serve -l 203.0.113.5:80,echo -l 203.0.113.5:81,echo
  cap_start
  cli -to 203.0.113.5:80
  cli -to 203.0.113.5:81 -n 2 -stagger 200ms
  finish
}

backlog() {
  topo
  nsx "$S" sysctl -qw "$@"
  FAULT="ip netns exec synpath-s sysctl -w $*; ip netns exec synpath-r tc qdisc add dev eth-c root tbf rate 16kbit burst 80 latency 5s"
  nsx "$R" tc qdisc add dev eth-c root tbf rate 16kbit burst 80 latency 5s
  serve -l "203.0.113.5:80,noaccept,${BACKLOG:-1}"
  KINDS='*=derive'
  DESC_EXTRA=". Outcomes vary between runs; each attempt's truth is read from the wire in both captures: SYN never answered = timeout/server (SYN dropped while the accept queue was full); handshake done and the request ACKed by the server kernel but never answered = stalled/server (connection sat in the accept queue); client's final ACK seen by the server but no server ACK/data/RST after it = half-open/server (dropped because the accept queue was full: cause accept-queue-full in the both and server views; the client's alone cannot tell it from a lost final ACK); server RST after the client's ACK and before its FIN = reset/server (tcp_abort_on_overflow; cause accept-queue-full in every view when the server sent nothing else and its RST has no ACK flag, a listener's answer); a server RST that only answers the client's FIN (sent after its read timeout) on a connection whose final ACK the server had dropped does not make it a reset: it stays half-open/server. Observed in this run: {observed}"
  cap_start
  cli -to 203.0.113.5:80 -n "${CLIENTS:-20}" -c "${CLIENTS:-20}" -timeout 10s -read-timeout 3s
  TAIL=3 finish
}

scenario() {
  NAME=$1
  W=$TMP/$NAME
  mkdir -p "$W"
  C=synpath-$NAME-c R=synpath-$NAME-r S=synpath-$NAME-s N=synpath-$NAME-n
  FAULT= KINDS= POST= CAP_IF= CAP_OPTS= DESC_EXTRA= VANTAGE=
  case $NAME in
  established)
    topo; serve -l 203.0.113.5:80,echo; KINDS=80=ok
    cap_start; cli -to 203.0.113.5:80 -n 2 -stagger 300ms; finish ;;
  refused)
    topo; serve -l 203.0.113.5:80,echo; KINDS=80=ok,81=refused; FAULT="nothing listens on 203.0.113.5:81"
    cap_start; cli -to 203.0.113.5:80; cli -to 203.0.113.5:81 -n 2 -stagger 200ms; finish ;;
  outbound-drop)
    topo; fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 80 -j DROP
    serve -l 203.0.113.5:80,echo; KINDS=80=out-drop
    cap_start; cli -to 203.0.113.5:80 -n 2 -c 2; finish ;;
  server-silent)
    topo; fault s iptables -A INPUT -p tcp --syn --dport 80 -j DROP
    serve -l 203.0.113.5:80,echo; KINDS=80=srv-drop
    cap_start; cli -to 203.0.113.5:80 -n 2 -c 2; finish ;;
  return-drop|return-drop-exp)
    topo
    [ "$NAME" = return-drop-exp ] && { exponential_syn; FAULT="ip netns exec synpath-c sysctl -w net.ipv4.tcp_syn_linear_timeouts=0"; }
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 80 --tcp-flags SYN,ACK SYN,ACK -j DROP
    serve -l 203.0.113.5:80,echo; KINDS=80=ret-drop
    cap_start; cli -to 203.0.113.5:80 -n 2 -c 2; finish ;;
  return-icmp)
    topo
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 80 --tcp-flags SYN,ACK SYN,ACK -j REJECT --reject-with icmp-host-unreachable
    serve -l 203.0.113.5:80,echo; KINDS=80=ret-icmp
    cap_start; cli -to 203.0.113.5:80 -n 2 -c 2; finish ;;
  path-rst)              KINDS=80=ok,81=path-rst; path_reject --reject-with tcp-reset ;;
  icmp-host-unreach)     KINDS=80=ok,81=icmp; path_reject --reject-with icmp-host-unreachable ;;
  icmp-admin-prohibited) KINDS=80=ok,81=icmp; path_reject --reject-with icmp-admin-prohibited ;;
  icmp-port-unreach)     KINDS=80=ok,81=icmp; path_reject --reject-with icmp-port-unreachable ;;
  transient-loss)
    topo; fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 80 -m statistic --mode nth --every 2 --packet 0 -j DROP
    serve -l 203.0.113.5:80,echo; KINDS=80=transient
    cap_start; cli -to 203.0.113.5:80 -n 2; finish ;;
  half-open)
    topo; fault r iptables -A FORWARD -i eth-c -p tcp --dport 80 --tcp-flags SYN,ACK ACK -j DROP
    serve -l 203.0.113.5:80,echo; KINDS=80=half-open
    cap_start; cli -to 203.0.113.5:80 -read-timeout 3s; finish ;;
  stalled)
    topo; serve -l 203.0.113.5:80,silent; KINDS=80=stalled
    FAULT="ip netns exec synpath-s labnet serve -l 203.0.113.5:80,silent (accepts, reads, never answers)"
    cap_start; cli -to 203.0.113.5:80 -n 2 -c 2 -read-timeout 2s; finish ;;
  reset)
    topo; serve -l 203.0.113.5:80,rst; KINDS=80=reset
    FAULT="ip netns exec synpath-s labnet serve -l 203.0.113.5:80,rst (accepts, reads, closes with SO_LINGER 0)"
    cap_start; cli -to 203.0.113.5:80 -n 2 -stagger 200ms; finish ;;
  client-abort)
    topo; serve -l 203.0.113.5:80,echo; KINDS=80=abort
    FAULT="ip netns exec synpath-c labnet rawsyn -to 203.0.113.5:80 -n 2 (raw SYNs from ports no socket owns: the client kernel answers each SYN-ACK with RST)"
    cap_start; nsx "$C" "$LABNET" rawsyn -to 203.0.113.5:80 -n 2 >>"$W/client.jsonl"; finish ;;
  nat-snat)
    topo
    fault r iptables -t nat -A POSTROUTING -o eth-s -s 198.51.100.10 -j SNAT --to-source 192.0.2.1
    fault s iptables -A INPUT -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo
    KINDS=80=ok,82=srv-drop,83=ret-drop
    cap_start; cli -to 203.0.113.5:80; both 203.0.113.5:82 203.0.113.5:83; finish ;;
  nat-dnat)
    topo
    fault r iptables -t nat -A PREROUTING -i eth-c -d 192.0.2.80 -p tcp -j DNAT --to-destination 203.0.113.5
    fault s iptables -A INPUT -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo
    KINDS=80=ok,82=srv-drop,83=ret-drop
    cap_start; cli -to 192.0.2.80:80; both 192.0.2.80:82 192.0.2.80:83; finish ;;
  far-server)
    topo_far
    fault n iptables -t nat -A PREROUTING -i eth0 -d 192.0.2.80 -p tcp --dport 80 -j DNAT --to-destination 203.0.113.5
    fault n iptables -t nat -A PREROUTING -i eth0 -d 192.0.2.80 -p udp --dport 9 -j DNAT --to-destination 203.0.113.5
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 81 -j REJECT --reject-with tcp-reset
    FAULT+="; ip netns exec synpath-n labnet delay -a wan -b lan -d 40ms"
    serve -l 203.0.113.5:80,echo
    KINDS=80=ok,81=path-rst,82=path-rst
    cap_start; cli -to 192.0.2.80:80 -n 3 -stagger 300ms; cli -to 192.0.2.80:81; cli -to 192.0.2.80:82; finish ;;
  far-reset)
    topo_far
    fault n iptables -t nat -A PREROUTING -i eth0 -d 192.0.2.80 -p tcp -j DNAT --to-destination 203.0.113.5
    fault n iptables -t nat -A PREROUTING -i eth0 -d 192.0.2.80 -p udp --dport 9 -j DNAT --to-destination 203.0.113.5
    fault n iptables -t raw -A PREROUTING -i eth0 -p tcp --dport 85 -m string --algo bm --string synpath-again -j NOTRACK
    fault r iptables -A FORWARD -i eth-c -p tcp --dport 84 -m string --algo bm --string synpath-again -j REJECT --reject-with tcp-reset
    FAULT+="; ip netns exec synpath-n labnet delay -a wan -b lan -d 40ms"
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:84,echo -l 203.0.113.5:85,echo
    KINDS=80=ok,84=path-reset,85=path-reset
    cap_start; cli -to 192.0.2.80:80 -n 2 -stagger 300ms
    local p; for p in 84 85; do cli -to 192.0.2.80:$p -req "" -read-timeout 1s -then synpath-again -then-after 500ms; done
    finish ;;
  clock-skew)
    topo; POST=skew
    fault s iptables -A INPUT -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    FAULT+="; editcap -t 37.25 server.pcap"
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo
    KINDS=80=ok,81=refused,82=srv-drop,83=ret-drop
    cap_start; cli -to 203.0.113.5:80; cli -to 203.0.113.5:81; both 203.0.113.5:82 203.0.113.5:83; finish ;;
  ipv6-established)
    topo v6; serve -l "[2001:db8:5::5]:80,echo"; KINDS=80=ok
    cap_start; cli -to "[2001:db8:5::5]:80" -n 2 -stagger 300ms; finish ;;
  ipv6-refused)
    topo v6; serve -l "[2001:db8:5::5]:80,echo"; KINDS=80=ok,81=refused
    cap_start; cli -to "[2001:db8:5::5]:80"; cli -to "[2001:db8:5::5]:81" -n 2 -stagger 200ms; finish ;;
  ipv6-drop)
    topo v6
    fault r ip6tables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r ip6tables -A FORWARD -i eth-s -p tcp -s 2001:db8:5::5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    serve -l "[2001:db8:5::5]:82,echo" -l "[2001:db8:5::5]:83,echo"; KINDS=82=out-drop,83=ret-drop
    cap_start; both "[2001:db8:5::5]:82" "[2001:db8:5::5]:83"; finish ;;
  mixed)
    topo
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 84 -j REJECT --reject-with tcp-reset
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 85 -j REJECT --reject-with icmp-admin-prohibited
    fault s iptables -A INPUT -p tcp --syn --dport 86 -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo -l 203.0.113.5:84,echo \
      -l 203.0.113.5:85,echo -l 203.0.113.5:86,echo -l 203.0.113.5:87,silent -l 203.0.113.5:88,rst
    KINDS=80=ok,81=refused,82=out-drop,83=ret-drop,84=path-rst,85=icmp,86=srv-drop,87=stalled,88=reset
    cap_start
    local p pids=()
    for p in 80 81 82 83 84 85 86 87 88; do cli -to 203.0.113.5:$p -n 30 -c 10 -stagger 20ms -read-timeout 2s & pids+=($!); done
    wait "${pids[@]}"; finish ;;
  fmt-pcapng) POST=pcapng; three_kinds ;;
  fmt-nano)   CAP_OPTS="--time-stamp-precision=nano"; three_kinds ;;
  fmt-sll2)   CAP_IF=any; three_kinds ;;
  fmt-sll1)   CAP_IF=any CAP_OPTS="-y LINUX_SLL"; three_kinds ;;
  fmt-snap64) CAP_OPTS="-s 64"; three_kinds ;;
  fmt-gzip)   POST=gzip; three_kinds ;;
  fmt-vlan)
    VLAN=1; three_kinds ;;
  late-server-capture)
    topo
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83:84 --tcp-flags SYN,ACK SYN,ACK -j DROP
    fault s iptables -A INPUT -p tcp --syn --dport 86 -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo -l 203.0.113.5:84,echo -l 203.0.113.5:86,echo
    KINDS=80=ok,82=out-drop,83=ret-drop,84=ret-drop,86=srv-drop
    FAULT+="; the server's tcpdump starts 4.5 s after the client's"
    cap_start_side client; sleep 0.2; marker
    local p82 p84
    cli -to 203.0.113.5:80                # out of view
    cli -to 203.0.113.5:83 -timeout 2.5s  # SYNs at 0, 1, 2 s, given up at 2.5 s: out of view
    sleep 0.3
    cli -to 203.0.113.5:82 & p82=$!      # 6 SYNs 1 s apart: straddle the server capture's start
    cli -to 203.0.113.5:84 & p84=$!
    sleep 1.4
    cap_start_side server
    sleep 0.2
    marker
    sleep 0.5
    cli -to 203.0.113.5:80
    both 203.0.113.5:83 203.0.113.5:86
    wait "$p82" "$p84"
    finish ;;
  early-stop-server-capture)
    topo
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo
    KINDS=80=ok,81=refused,82=out-drop,83=ret-drop
    FAULT+="; the server's tcpdump is stopped after the first two attempts"
    cap_start
    cli -to 203.0.113.5:80
    cli -to 203.0.113.5:81
    sleep 0.3
    marker
    sleep 0.2
    cap_stop_side server
    sleep 0.5
    cli -to 203.0.113.5:80
    cli -to 203.0.113.5:81
    both 203.0.113.5:82 203.0.113.5:83
    finish ;;
  short-connect-timeout|capture-ends-at-last-syn)
    topo; exponential_syn
    FAULT="ip netns exec synpath-c sysctl -w net.ipv4.tcp_syn_linear_timeouts=0"
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    fault s iptables -A INPUT -p tcp --syn --dport 86 -j DROP
    serve -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo -l 203.0.113.5:86,echo
    KINDS=82=out-drop,83=ret-drop,86=srv-drop
    FAULT+="; labnet connect -timeout 3.5s"
    [ "$NAME" = capture-ends-at-last-syn ] && { POST=cutlastsyn; FAULT+="; editcap -B (time of the last SYN + 1 µs) client.pcap"; }
    cap_start
    local p pids=()
    for p in 82 83 86; do cli -to 203.0.113.5:$p -timeout 3.5s & pids+=($!); done
    wait "${pids[@]}"
    TAIL=1 finish ;;
  client-firewall)
    topo; fault c iptables -A INPUT -p tcp --sport 80 --tcp-flags SYN,ACK SYN,ACK -j DROP
    serve -l 203.0.113.5:80,echo; KINDS=80=client-fw
    cap_start; cli -to 203.0.113.5:80 -n 2 -c 2; finish ;;
  merged)
    topo; POST=merged
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 84 -j REJECT --reject-with tcp-reset
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo -l 203.0.113.5:84,echo
    KINDS=80=ok,81=refused,82=out-drop,83=ret-drop,84=path-rst
    FAULT+="; mergecap -F pcap -w both.pcap client.pcap server.pcap"
    cap_start
    cli -to 203.0.113.5:80; cli -to 203.0.113.5:81; cli -to 203.0.113.5:84
    both 203.0.113.5:82 203.0.113.5:83
    finish ;;
  rotated)
    topo; POST=rotate
    fault r iptables -A FORWARD -i eth-c -p tcp --syn --dport 82 -j DROP
    fault r iptables -A FORWARD -i eth-s -p tcp -s 203.0.113.5 --sport 83 --tcp-flags SYN,ACK SYN,ACK -j DROP
    fault s iptables -A INPUT -p tcp --syn --dport 86 -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:82,echo -l 203.0.113.5:83,echo -l 203.0.113.5:86,echo
    KINDS=80=ok,81=refused,82=out-drop,83=ret-drop,86=srv-drop
    FAULT+="; client capture split with editcap -r into client.pcap, client.pcap1, …, client.pcap11"
    cap_start
    cli -to 203.0.113.5:80; cli -to 203.0.113.5:81
    local p pids=()
    for p in 82 83 86; do cli -to 203.0.113.5:$p & pids+=($!); sleep 0.4; done
    sleep 2; cli -to 203.0.113.5:80
    wait "${pids[@]}"
    finish ;;
  nat-bypass)
    topo
    fault r iptables -t nat -A PREROUTING -i eth-c -d 192.0.2.80 -p tcp -j DNAT --to-destination 203.0.113.5
    fault r iptables -t raw -A PREROUTING -i eth-s -s 203.0.113.5 -p tcp --sport 80 -j CT --notrack
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:81,echo; KINDS=80=nat-bypass,81=ok
    cap_start; cli -to 192.0.2.80:81; cli -to 192.0.2.80:80; finish ;;
  happy-eyeballs)
    topo v6
    # The first SYN-ACK of a connection (its connmark still 0) is marked, the
    # connection too, and the marked packet dropped: the resent one passes.
    fault r ip6tables -A FORWARD -i eth-s -p tcp -s 2001:db8:5::5 --sport 80 --tcp-flags SYN,ACK SYN,ACK -m connmark --mark 0 -j MARK --set-mark 7
    fault r ip6tables -A FORWARD -i eth-s -p tcp -s 2001:db8:5::5 --sport 80 --tcp-flags SYN,ACK SYN,ACK -m connmark --mark 0 -j CONNMARK --set-mark 1
    fault r ip6tables -A FORWARD -m mark --mark 7 -j DROP
    serve -l "[2001:db8:5::5]:80,echo" -l 203.0.113.5:80,echo; KINDS=80=derive
    cap_start; cli -to "[2001:db8:5::5]:80" -fallback 203.0.113.5:80 -fallback-after 250ms -n 3 -stagger 1s; finish ;;
  syn-proxy)
    topo; VANTAGE=unknown
    fault r iptables -t raw -A PREROUTING -i eth-c -p tcp -m multiport --dports 80,81 --syn -j CT --notrack
    fault r iptables -A FORWARD -i eth-c -p tcp -m multiport --dports 80,81 -m conntrack --ctstate INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460
    fault r iptables -A FORWARD -i eth-c -p tcp -m conntrack --ctstate INVALID -j DROP
    fault r sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
    serve -l 203.0.113.5:80,echo; KINDS=80=ok,81=syn-proxy
    cap_start; cli -to 203.0.113.5:80; cli -to 203.0.113.5:81; finish ;;
  same-subnet)
    topo_flat; VANTAGE=unknown
    fault s iptables -A INPUT -p tcp --syn --dport 82 -j DROP
    serve -l 198.51.100.20:80,echo -l 198.51.100.20:82,echo
    KINDS=80=ok,81=refused,82=srv-drop
    cap_start
    cli -to 198.51.100.20:80; cli -to 198.51.100.20:81; cli -to 198.51.100.20:82
    finish ;;
  pmtu-black-hole)
    topo
    fault r ip link set dev eth-c mtu 1280
    fault r iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
    serve -l 203.0.113.5:80,echo -l 203.0.113.5:81,big
    KINDS=80=ok,81=pmtu
    FAULT+="; ip netns exec synpath-s labnet serve -l 203.0.113.5:81,big (answers 20000 bytes)"
    cap_start; cli -to 203.0.113.5:80; cli -to 203.0.113.5:81 -read-timeout 2500ms; finish ;;
  sni-blocked)
    topo
    fault r iptables -A FORWARD -p tcp -m string --algo bm --string blocked.example -j REJECT --reject-with tcp-reset
    serve -l 203.0.113.5:443,tls
    KINDS=@allowed.example=ok,@blocked.example=sni-blocked
    cap_start
    cli -to 203.0.113.5:443 -tls allowed.example
    cli -to 203.0.113.5:443 -tls blocked.example
    finish ;;
  dns)
    topo
    nsx "$S" ip addr add 203.0.113.53/24 dev eth0
    nsx "$R" ip neigh replace 203.0.113.53 lladdr 02:00:00:00:02:05 dev eth-s nud permanent
    fault r iptables -A FORWARD -d 203.0.113.7 -j DROP
    mkdir -p "/etc/netns/$C"
    printf 'nameserver 203.0.113.53\noptions timeout:1 attempts:2\n' >"/etc/netns/$C/resolv.conf"
    FAULT+="; /etc/netns/synpath-c/resolv.conf: nameserver 203.0.113.53, options timeout:1 attempts:2"
    FAULT+="; ip netns exec synpath-s labnet serve -dns 203.0.113.53:53 -rr ok.example=203.0.113.5 -rr nx.example=NXDOMAIN -rr fail.example=SERVFAIL -rr refused.example=REFUSED -rr silent.example=DROP -rr stale.example=203.0.113.7/203.0.113.5"
    serve -l 203.0.113.5:80,echo -dns 203.0.113.53:53 -rr ok.example=203.0.113.5 -rr nx.example=NXDOMAIN \
      -rr fail.example=SERVFAIL -rr refused.example=REFUSED -rr silent.example=DROP -rr stale.example=203.0.113.7/203.0.113.5
    KINDS=203.0.113.7:80=out-drop,80=ok
    cap_start
    local n
    cli -to ok.example.:80
    for n in nx fail refused silent; do cli -to "$n.example.:80"; done
    cli -to stale.example.:80 -timeout 3s -cached
    cli -to stale.example.:80
    finish ;;
  gateway-error)
    topo
    serve -l 203.0.113.5:80,http-200 -l 203.0.113.5:81,http-502 -l 203.0.113.5:82,http-503 -l 203.0.113.5:83,http-504
    KINDS=80=ok,81=ok,82=ok,83=ok
    FAULT="ip netns exec synpath-s labnet serve -l 203.0.113.5:80,http-200 -l 203.0.113.5:81,http-502 -l 203.0.113.5:82,http-503 -l 203.0.113.5:83,http-504"
    cap_start
    local p
    for p in 80 81 82 83; do cli -to 203.0.113.5:$p -http-host gw.example; done
    finish ;;
  backlog-syncookies)        backlog net.ipv4.tcp_syncookies=1 ;;
  backlog-nosyncookies)      backlog net.ipv4.tcp_syncookies=0 ;;
  backlog-abort-on-overflow) backlog net.ipv4.tcp_abort_on_overflow=1 ;;
  backlog-abort-nosyncookies) BACKLOG=31 CLIENTS=40 backlog net.ipv4.tcp_syncookies=0 net.ipv4.tcp_abort_on_overflow=1 ;;
  *) die "no recipe for $NAME" ;;
  esac
}

# vlan_on: push a tag on egress, pop it on ingress, on all four veth ends.
vlan_on() {
  local spec
  for spec in "$C eth0 100" "$R eth-c 100" "$R eth-s 200" "$S eth0 200"; do
    set -- $spec
    nsx "$1" unshare -m --propagation private sh -ec "
      mount -t bpf bpf /sys/fs/bpf
      '$LABNET' vlan -push $3 -pin /sys/fs/bpf/push
      '$LABNET' vlan -pin /sys/fs/bpf/pop
      tc qdisc add dev $2 clsact
      tc filter add dev $2 egress bpf object-pinned /sys/fs/bpf/push direct-action
      tc filter add dev $2 ingress bpf object-pinned /sys/fs/bpf/pop direct-action"
  done
}

readme() {
  {
    echo "# Lab scenarios"
    echo
    echo "Made by \`make lab\` (\`bash testdata/lab/run.sh testdata/scenarios\`, as root) with a real Linux"
    echo "kernel: namespaces client (198.51.100.10, 2001:db8:c::10) — router — server (203.0.113.5,"
    echo "2001:db8:5::5), tcpdump on the client's and on the server's interface. Each folder holds the two"
    echo "captures and truth.json (every attempt in the client capture, its wire counts and the expected"
    echo "verdict from both captures, the client's alone and the server's alone; checked against the wire"
    echo "with tshark by testdata/lab/labnet truth). wire counts per capture: syn = SYNs with the attempt's ISN,"
    echo "synack = SYN-ACKs acknowledging it, rst = RSTs on the 4-tuple in either direction, icmp = ICMP errors"
    echo "quoting it. Attempts are matched across the captures by the client's ISN (NAT here rewrites addresses"
    echo "and ports, never sequence numbers). Every capture begins with a UDP exchange on port 9 (so its first"
    echo "frame shows when it started) and ends with another about 3 s after the last client activity (1 s in"
    echo "short-connect-timeout), so each file shows that the capture went on after its last SYN; the exceptions"
    echo "are the point of their scenario (late-server-capture, early-stop-server-capture, capture-ends-at-last-syn)."
    echo
    echo "Every view has where_confidence: \`proven\` (both captures cover the attempt, or a packet was seen"
    echo "leaving or arriving at an endpoint's own capture), \`likely\` (an inference from one capture), empty for"
    echo "where=unknown. An unanswered attempt is a timeout when a capture shows the client waiting at least 2 s"
    echo "since its first SYN. Coverage: a client SYN is covered when its time (on the client's clock) lies in"
    echo "the server capture's span (\`server_span\`: first and last frame, \`clock_offset_s\` taken off); an"
    echo "attempt's \`coverage\` is \`both\` (every SYN covered), \`partial\` (judged from both captures, from what"
    echo "the covered part shows) or \`client-only\` (no SYN covered: out of the server capture's view, its \`both\`"
    echo "view is exactly its \`client_view\`)."
    echo "Other fields: \`client_vantage\`/\`server_vantage\` (what the analyzer must report for each capture alone:"
    echo "\`unknown\` in same-subnet), \`client_files\` (rotated: the split client capture in lexical order, with"
    echo "\`client_file\` empty), \`merged_file\` (merged: one file holding both vantages, to give the \`both\` view)."
    echo "Causes (issue 9): a view may carry \`cause\` (absent: none): \`pmtu-black-hole\`, \`blocked-after-client-hello\`,"
    echo "\`accept-queue-full\`, \`gateway-error\`, \`dns\`, each derived from the wire by labnet truth and set only in the"
    echo "views whose capture shows it (see each scenario). Per attempt, from the client capture (tshark's dissectors):"
    echo "\`sni\` (tls.handshake.extensions_server_name of its ClientHello), \`http_host\` (http.host of its request),"
    echo "\`http_status\` (http.response.code of the reply; HTTP on ports 80-83), \`dns_name\` (the name of the last"
    echo "lookup answered before its first SYN whose A records hold its server address); absent when not shown. Top"
    echo "level, \`dns_failed\`: each lookup in the client capture that got no address, \`{client, name, rcode,"
    echo "answered, queries}\` (rcode NXDOMAIN, SERVFAIL, REFUSED, or \"\" when unanswered or empty; queries: the"
    echo "client's queries for it, retries included; a query starts a new lookup unless the previous one for the name"
    echo "got no address)."
    echo "IPv6 captures also hold the kernel's own MLDv2 reports (hop limit 1), as real ones do."
    echo "The backlog-* outcomes vary between runs: their truth is read from the wire each time."
    echo "Regenerate elsewhere with \`bash testdata/lab/run.sh DIR [SCENARIO...]\` (same layout); the"
    echo "helper program (servers, clients, raw SYNs, VLAN eBPF loader, truth writer) is testdata/lab/labnet."
    echo
    local s
    for s in "${SCENARIOS[@]}"; do echo "- \`$s\`: ${DESC[$s]}"; done
  } >"$OUT/README.md"
}

main() {
  ensure_tools
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  TMP=$(mktemp -d /tmp/synpath-lab.XXXXXX)
  trap cleanup EXIT INT TERM
  # shellcheck disable=SC2046
  local s; for s in "${SCENARIOS[@]}"; do del_ns "synpath-$s-c" "synpath-$s-r" "synpath-$s-s" "synpath-$s-n"; done # leftovers of a killed run
  LABNET=$TMP/labnet
  (cd "$REPO" && go build -o "$LABNET" ./testdata/lab/labnet) || die "building labnet failed"
  local start=$SECONDS s failed=()
  for s in "${SEL[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    (
      set +e
      ( trap - EXIT INT TERM; set -e; VLAN=; scenario "$s" ) >"$TMP/$s.log" 2>&1
      echo $? >"$TMP/$s.rc"
    ) &
    WORKERS+=($!)
  done
  wait
  for s in "${SEL[@]}"; do
    if [ "$(cat "$TMP/$s.rc" 2>/dev/null)" = 0 ]; then
      log "ok    $s: $(grep -E "^$s: " "$TMP/$s.log" | tail -1 | cut -d' ' -f2-)"
    else
      failed+=("$s")
      log "FAIL  $s"; sed 's/^/      /' "$TMP/$s.log"
    fi
  done
  readme
  log "done in $((SECONDS - start)) s; $(du -sh "$OUT" | cut -f1) in $OUT"
  [ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]}"
}

main
