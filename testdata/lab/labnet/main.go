// Command labnet is the scenario lab's helper: real TCP endpoints (serve, connect,
// rawsyn), an end-of-capture marker (mark), a VLAN tagger for veths (vlan), a
// long link (delay) and the truth writer that checks every scenario against the
// wire with tshark (truth).
//
// It lives under testdata so that ./... patterns ignore it; the lab builds it with
// `go build -o $TMP/labnet ./testdata/lab/labnet`. Standard library only.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		err = serve(args)
	case "connect":
		err = connect(args)
	case "rawsyn":
		err = rawsyn(args)
	case "mark":
		err = mark(args)
	case "vlan":
		err = vlan(args)
	case "delay":
		err = delay(args)
	case "corrupt":
		err = corrupt(args)
	case "truth":
		err = truth(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "labnet %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: labnet serve|connect|rawsyn|mark|vlan|delay|corrupt|truth [flags]")
	os.Exit(2)
}
