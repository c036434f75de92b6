// Command gencap writes a large synthetic capture for benchmarks:
//
//	gencap -n ATTEMPTS > file.pcap
//	gencap -mix -n CONNECTIONS [-seed S] [-rate R] [-server FILE] [-truth] > client.pcap
//
// -mix writes a realistic mix of short connections, failures of every kind
// among them (capgen.WriteMix); -truth prints on stderr the verdict counts
// synpath must give.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/synpath/synpath/internal/capgen"
)

func main() {
	n := flag.Int("n", 100000, "connection attempts")
	bulk := flag.Bool("bulk", false, "established connections carry 200 reply segments each")
	mix := flag.Bool("mix", false, "a realistic mix of short connections and failures of every kind")
	seed := flag.Uint64("seed", 1, "with -mix: the same seed writes the same bytes")
	rate := flag.Float64("rate", 1000, "with -mix: new connections per second")
	server := flag.String("server", "", "with -mix: also write the server's capture of the same connections to this file")
	truth := flag.Bool("truth", false, "with -mix: print the client-side verdict counts on stderr")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if *mix {
		if err := writeMix(w, *n, *seed, *rate, *server, *truth); err != nil {
			fmt.Fprintln(os.Stderr, "gencap:", err)
			os.Exit(1)
		}
		return
	}
	m := capgen.DefaultMix
	if *bulk {
		m = capgen.BulkMix
	}
	packets, err := capgen.Write(w, *n, m)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gencap: %d attempts, %d packets\n", *n, packets)
}

func writeMix(w *bufio.Writer, n int, seed uint64, rate float64, server string, truth bool) error {
	var sw *bufio.Writer
	var sf *os.File
	if server != "" {
		f, err := os.Create(server)
		if err != nil {
			return err
		}
		sf, sw = f, bufio.NewWriterSize(f, 1<<20)
	}
	cfg := capgen.MixConfig{N: n, Rate: rate, Seed: seed}
	var t capgen.Truth
	var err error
	if sw != nil {
		t, err = capgen.WriteMix(w, sw, cfg)
	} else {
		t, err = capgen.WriteMix(w, nil, cfg)
	}
	if err == nil {
		err = w.Flush()
	}
	if sw != nil {
		if err == nil {
			err = sw.Flush()
		}
		if cerr := sf.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gencap: %d connections, %d client packets", t.Connections, t.ClientPackets)
	if server != "" {
		fmt.Fprintf(os.Stderr, ", %d server packets", t.ServerPackets)
	}
	fmt.Fprintln(os.Stderr)
	if truth {
		v := t.Verdicts()
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(os.Stderr, "%s %d\n", k, v[k])
		}
	}
	return nil
}
