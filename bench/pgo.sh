#!/usr/bin/env bash
# Rewrites cmd/synpath/default.pgo, the CPU profile `go build` optimises
# synpath with (profile-guided optimisation: hot calls inlined, hot
# interface calls devirtualised). The profile is of the work users wait
# for: a realistic mix judged to JSON and to a table, gzip'd, and joined
# with its server capture. Rerun after changes to the hot paths.
#
# Usage: bench/pgo.sh [CONNECTIONS]   (default 36000, about 100 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-36000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

go build -pgo=off -o "$out/synpath" ./cmd/synpath
go run ./internal/cmd/gencap -mix -n "$conns" -seed 7 -server "$out/server.pcap" > "$out/client.pcap" 2> /dev/null
gzip -6 -k "$out/client.pcap"
n=0
run() {
	n=$((n + 1))
	"$out/synpath" analyze --cpuprofile "$out/$n.prof" "$@" > /dev/null || [ $? -eq 1 ] # 1: failures found
}
for _ in 1 2 3; do
	run --format json "$out/client.pcap"
	run "$out/client.pcap"
	run --format json "$out/client.pcap.gz"
	run --format json --client "$out/client.pcap" --server "$out/server.pcap"
done
go tool pprof -proto "$out"/*.prof > cmd/synpath/default.pgo 2> /dev/null
echo "cmd/synpath/default.pgo: $(stat -c %s cmd/synpath/default.pgo) bytes from $n runs"
