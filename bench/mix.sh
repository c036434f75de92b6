#!/usr/bin/env bash
# Postmortem speed on a realistic mix (gencap -mix: short connections, ~60%
# established with a request and a reply, the rest failures of every kind,
# ~9 packets each). Runs, interleaved, RUNS times on the same capture:
#   floor          the pcapgo read floor (read every record, nothing else)
#   synpath-json   synpath analyze --format json
#   synpath-table  synpath analyze (the table and summaries)
#   synpath-1core  synpath analyze --format json with GOMAXPROCS=1
#   synpath-join   synpath analyze --format json --client C --server S
#   synpath-gzip   synpath analyze --format json on the capture gzip'd (gzip -6)
#   tshark         tshark -q -z conv,tcp
#   tcptrace       tcptrace -n (skipped when not installed)
# and prints the medians of seconds, Mpkt/s and peak RSS, and the ratios.
#
# Usage: bench/mix.sh [CONNECTIONS] [RUNS]   (defaults 36000, about 100 MB, and 5)
# Environment: SEED (1), RATE (1000 connections/s), TOOLS (which rows, default all),
# MIXDIR (keep the captures there and reuse them; default: a temp dir, deleted),
# BASE (another synpath binary, e.g. built from main: adds the row base-json and
# the ratio before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-36000}
runs=${2:-5}
seed=${SEED:-1}
rate=${RATE:-1000}
tools=${TOOLS:-floor synpath-json synpath-table synpath-1core synpath-join synpath-gzip tshark tcptrace}
if [ -n "${BASE:-}" ]; then
	tools="$tools base-json"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dir=${MIXDIR:-$out}
mkdir -p "$dir"

go build -o "$out/synpath" ./cmd/synpath
go build -o "$out/readfloor" ./internal/cmd/readfloor
base="$dir/mix-$conns-$seed-$rate"
client="$base.client.pcap" server="$base.server.pcap"
if [ ! -s "$client" ] || [ ! -s "$server" ] || [ ! -s "$base.info" ]; then
	go run ./internal/cmd/gencap -mix -n "$conns" -seed "$seed" -rate "$rate" -server "$server" > "$client" 2> "$base.info"
fi
if [[ " $tools " == *" synpath-gzip "* ]] && [ ! -s "$client.gz" ]; then
	gzip -6 -k -c "$client" > "$client.gz"
fi
# "gencap: N connections, P client packets, S server packets"
read -r cpk spk < <(awk '/^gencap:/ {print $4, $7}' "$base.info")
csize=$(stat -c %s "$client")
ssize=$(stat -c %s "$server")
echo "capture: $conns connections (seed $seed, $rate/s), client $((csize / 1000000)) MB $cpk packets, server $((ssize / 1000000)) MB $spk packets"

have() {
	case $1 in
	tshark) command -v tshark > /dev/null ;;
	tcptrace) command -v tcptrace > /dev/null ;;
	*) true ;;
	esac
}

# The command line of each tool, in cmd.
command_of() {
	case $1 in
	floor) cmd=("$out/readfloor" "$client") ;;
	synpath-json) cmd=("$out/synpath" analyze --format json "$client") ;;
	synpath-table) cmd=("$out/synpath" analyze "$client") ;;
	synpath-1core) cmd=(env GOMAXPROCS=1 "$out/synpath" analyze --format json "$client") ;;
	synpath-join) cmd=("$out/synpath" analyze --format json --client "$client" --server "$server") ;;
	synpath-gzip) cmd=("$out/synpath" analyze --format json "$client.gz") ;;
	tshark) cmd=(tshark -n -q -z conv,tcp -r "$client") ;;
	tcptrace) cmd=(tcptrace -n "$client") ;;
	base-json) cmd=("$BASE" analyze --format json "$client") ;;
	esac
}

# Wall seconds and peak RSS (KB) of one run, output discarded. The
# captures are read first, so that every run starts with them in the page
# cache: a kernel may page out a file left alone a few seconds (this VM's
# DAMON does), and the next run would read it from disk.
measure() {
	local t0 t1 cmd
	command_of "$1"
	cat "$client" "$server" > /dev/null
	[ ! -e "$client.gz" ] || cat "$client.gz" > /dev/null
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$out/rss" "${cmd[@]}" > /dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $(tail -n 1 "$out/rss")"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A ms rss
for tool in $tools; do
	: > "$out/$tool.ms"
	: > "$out/$tool.kb"
done
for i in $(seq "$runs"); do
	# Interleaved, so that machine noise hits every tool alike.
	for tool in $tools; do
		have "$tool" || continue
		read -r t m < <(measure "$tool")
		echo "$t" >> "$out/$tool.ms"
		echo "$m" >> "$out/$tool.kb"
	done
done
printf '%-14s %9s %8s %9s   %s\n' tool "median s" "Mpkt/s" "peak RSS" "runs (s)"
for tool in $tools; do
	[ -s "$out/$tool.ms" ] || { echo "$tool: not installed, skipped"; continue; }
	ms[$tool]=$(median < "$out/$tool.ms")
	rss[$tool]=$(median < "$out/$tool.kb")
	pk=$cpk
	[ "$tool" = synpath-join ] && pk=$((cpk + spk))
	awk -v t="${ms[$tool]}" -v m="${rss[$tool]}" -v p="$pk" -v n="$tool" -v r="$(awk '{printf "%.2f ", $1/1000}' "$out/$tool.ms")" \
		'BEGIN {printf "%-14s %9.3f %8.2f %6.0f MB   %s\n", n, t/1000, p/t/1000, m/1024, r}'
done
ratio() { # ratio NAME A B: A's time over B's
	if [ -n "${ms[$2]:-}" ] && [ -n "${ms[$3]:-}" ]; then
		awk -v a="${ms[$2]}" -v b="${ms[$3]}" -v n="$1" 'BEGIN {printf "%-40s %.1fx\n", n, a/b}'
	fi
}
ratio "synpath (json) vs tshark -z conv,tcp:" tshark synpath-json
ratio "synpath (json) vs tcptrace:" tcptrace synpath-json
ratio "synpath (table) vs tshark -z conv,tcp:" tshark synpath-table
if [ -n "${ms[floor]:-}" ] && [ -n "${ms[synpath-json]:-}" ]; then
	awk -v f="${ms[floor]}" -v s="${ms[synpath-json]}" 'BEGIN {printf "%-40s %.0f%% (floor time / synpath time)\n", "synpath (json) share of the read floor:", 100*f/s}'
fi
ratio "synpath one core (GOMAXPROCS=1), time vs two:" synpath-1core synpath-json
ratio "synpath (json) vs BASE:" base-json synpath-json
ratio "synpath gzip'd capture, time vs plain:" synpath-gzip synpath-json
