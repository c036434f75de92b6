#!/usr/bin/env bash
# Compares synpath with tshark and with the bare pcapgo read floor, in one
# run on the same synthetic capture, and prints medians of RUNS runs and
# the ratios. Usage: bench/run.sh [ATTEMPTS] [RUNS] [bulk]   (defaults 200000, 5)
# "bulk" makes established connections carry 200 reply segments each (a
# postmortem capture of busy links) instead of one (a capture of handshakes).
set -euo pipefail
cd "$(dirname "$0")/.."
attempts=${1:-200000}
runs=${2:-5}
shape=${3:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

go build -o "$out/synpath" ./cmd/synpath
go build -o "$out/readfloor" ./internal/cmd/readfloor
go run ./internal/cmd/gencap -n "$attempts" ${shape:+-bulk} > "$out/bench.pcap"
size=$(stat -c %s "$out/bench.pcap")
echo "capture: $attempts attempts${shape:+ (bulk)}, $((size / 1000000)) MB"

# seconds and peak RSS (KB) of one command, output discarded
measure() {
	/usr/bin/time -f "%e %M" -o "$out/t" "$@" > /dev/null 2>&1 || true
	tail -n 1 "$out/t"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A secs rss
for tool in floor synpath tshark; do
	: > "$out/$tool.s"
	: > "$out/$tool.m"
done
for i in $(seq "$runs"); do
	# Interleaved, so that machine noise hits all three alike.
	read -r s m < <(measure "$out/readfloor" "$out/bench.pcap"); echo "$s" >> "$out/floor.s"; echo "$m" >> "$out/floor.m"
	read -r s m < <(measure "$out/synpath" analyze --format json "$out/bench.pcap"); echo "$s" >> "$out/synpath.s"; echo "$m" >> "$out/synpath.m"
	if command -v tshark > /dev/null; then
		read -r s m < <(measure tshark -n -r "$out/bench.pcap" -Y 'tcp.flags.syn==1 || tcp.flags.reset==1' \
			-T fields -e frame.number -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags -e tcp.seq_raw)
		echo "$s" >> "$out/tshark.s"; echo "$m" >> "$out/tshark.m"
	fi
done
for tool in floor synpath tshark; do
	if [ -s "$out/$tool.s" ]; then
		secs[$tool]=$(median < "$out/$tool.s")
		rss[$tool]=$(median < "$out/$tool.m")
		printf '%-8s median %6.2f s  peak RSS %7d KB  (runs: %s)\n' "$tool" "${secs[$tool]}" "${rss[$tool]}" "$(tr '\n' ' ' < "$out/$tool.s")"
	fi
done
awk -v f="${secs[floor]}" -v s="${secs[synpath]}" 'BEGIN {printf "synpath speed vs read floor: %.0f%% of the floor'"'"'s speed\n", 100*f/s}'
if [ -n "${secs[tshark]:-}" ]; then
	awk -v t="${secs[tshark]}" -v s="${secs[synpath]}" 'BEGIN {printf "synpath vs tshark: %.1fx faster\n", t/s}'
fi
