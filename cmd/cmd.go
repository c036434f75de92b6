package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// Exit statuses (SPEC.md).
const (
	ExitOK     = 0 // every attempt shown was established
	ExitFailed = 1 // at least one attempt failed
	ExitUsage  = 2 // usage or input error
)

// errFailed reports that the run worked and found failed attempts.
var errFailed = errors.New("failed attempts")

// Main runs synpath with args (without the program name) and returns the
// exit status. Errors are printed once, as one line, on stderr.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdin, stdout, stderr)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errFailed):
		return ExitFailed
	case errors.Is(err, pflag.ErrHelp):
		return ExitOK
	}
	fmt.Fprintf(stderr, "synpath: %v\n", err)
	return ExitUsage
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no capture given (see synpath --help)")
	}
	switch args[0] {
	case "analyze":
		return analyze(ctx, args[1:], stdin, stdout, stderr)
	case "live":
		return live(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "synpath", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cmd, ok := mistypedCommand(args[0]); ok {
		return fmt.Errorf("unknown command %q: did you mean %s? (see synpath --help)", args[0], cmd)
	}
	// "synpath FILE…" is short for "synpath analyze FILE…".
	return analyze(ctx, args, stdin, stdout, stderr)
}

var commands = []string{"analyze", "live", "version", "help"}

// mistypedCommand reports the command a word is a near miss of (synpath
// analyse): a word that is not a file, with no path or extension in it,
// within two edits of a command.
func mistypedCommand(word string) (string, bool) {
	if word == "" || word == "-" || strings.HasPrefix(word, "-") || strings.ContainsAny(word, "./\\") {
		return "", false
	}
	if _, err := os.Stat(word); err == nil {
		return "", false
	}
	for _, c := range commands {
		if d := editDistance(strings.ToLower(word), c); d <= 2 && d < len(c)/2+1 {
			return c, true
		}
	}
	return "", false
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

const usage = `synpath tells where a TCP handshake died, from packet captures.

Usage:
  synpath analyze [flags] FILE...    judge every connection attempt in the captures
  synpath live -i INTERFACE [flags]  judge attempts on a live interface as they conclude
  synpath version

FILE is a pcap or pcapng capture, gzip'd or not; "-" reads standard input.
Each file's vantage (client side or server side) is inferred from TTLs;
--client and --server force it. Given both, the captures are joined.

Examples:
  synpath analyze client.pcap                 what the client saw, per attempt
  synpath analyze --failed capture.pcapng.gz  only the attempts that failed
  synpath analyze --client c.pcap --server s.pcap --explain
                                              both ends joined, with ladder diagrams
  tcpdump -i eth0 -w - 'tcp or icmp' | synpath analyze --format json -
  synpath live -i eth0 --failed              failures on this host's link, as they happen

Exit status: 0 every attempt shown was established, 1 at least one failed,
2 usage or input error.

Run "synpath analyze --help" or "synpath live --help" for every flag.
`

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel " + s.Value[:12]
		}
	}
	return "devel"
}

// oneLine keeps an error message on one line, whatever a library put in it.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
