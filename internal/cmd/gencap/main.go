// Command gencap writes a large synthetic capture for benchmarks:
// gencap -n ATTEMPTS > file.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/synpath/synpath/internal/capgen"
)

func main() {
	n := flag.Int("n", 100000, "connection attempts")
	bulk := flag.Bool("bulk", false, "established connections carry 200 reply segments each")
	flag.Parse()
	mix := capgen.DefaultMix
	if *bulk {
		mix = capgen.BulkMix
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	packets, err := capgen.Write(w, *n, mix)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gencap: %d attempts, %d packets\n", *n, packets)
}
