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
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	packets, err := capgen.Write(w, *n, capgen.DefaultMix)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gencap: %d attempts, %d packets\n", *n, packets)
}
