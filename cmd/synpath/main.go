// Command synpath tells where a TCP handshake died, from packet captures.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/synpath/synpath/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
