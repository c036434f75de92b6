// Command synpath tells where a TCP handshake died, from packet captures.
package main

import (
	"context"
	"os"

	"github.com/synpath/synpath/cmd"
)

func main() {
	cmd.LowerTimerSlack()
	// The first Ctrl-C stops reading and prints what was judged; a second
	// one exits at once.
	ctx, stop := cmd.Interrupts(context.Background())
	code := cmd.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
