// Command readfloor reads a pcap with pcapgo's zero-copy reader and does
// nothing else: the floor any pcap analyzer in Go is measured against.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: readfloor FILE.pcap")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "readfloor:", err)
		os.Exit(2)
	}
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, "readfloor:", err)
		os.Exit(2)
	}
	var packets, bytes int
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "readfloor:", err)
			os.Exit(1)
		}
		packets++
		bytes += len(data)
	}
	fmt.Printf("%d packets, %d bytes\n", packets, bytes)
}
