package cmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// FuzzPipeline runs arbitrary capture bytes through every stage, as one
// capture and as both sides of a join, and renders everything: whatever
// the decoder lets through must not panic the verdict or report stages.
func FuzzPipeline(f *testing.F) {
	for _, name := range []string{"refused", "half-open", "client-abort", "icmp-admin-prohibited", "fmt-vlan"} {
		for _, side := range []string{"client.pcap", "server.pcap"} {
			if b, err := os.ReadFile(filepath.Join(scenariosDir(), name, side)); err == nil {
				f.Add(b)
			}
		}
	}
	// Other projects' captures of tunnels and link types, the small ones.
	real, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "real-world", "*.pcap"))
	for _, name := range real {
		if b, err := os.ReadFile(name); err == nil && len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	{
		rd, err := capture.NewReader("fuzz", bytes.NewReader(data))
		if err != nil {
			return
		}
		var sides [2]verdict.Side
		table := &report.Table{Explain: true}
		tr := flows.NewTracker(flows.Config{Idle: 5e9, MaxAttempts: 64}, func(a *flows.Attempt) {
			v := verdict.InferVantage(a)
			r := verdict.Judge(a, v, verdict.Config{})
			table.Add(r)
			i := 0
			if v == verdict.VantageServer {
				i = 1
			}
			sides[i].Attempts = append(sides[i].Attempts, a.Clone())
		})
		var p capture.Packet
		for rd.Next(&p) == nil {
			tr.Observe(&p)
			// Both sides see every packet, so joins get matches to chew on.
		}
		tr.Finish()
		// The same attempts on both sides: every one matches exactly.
		results, _ := verdict.Join(verdict.Side{Attempts: append(sides[0].Attempts, sides[1].Attempts...)},
			verdict.Side{Attempts: append(sides[1].Attempts, sides[0].Attempts...)}, verdict.JoinConfig{})
		jw := report.NewJSONWriter(io.Discard)
		for i := range results {
			table.Add(results[i])
			if err := jw.Write(&results[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := table.Render(io.Discard, report.Footer{}); err != nil {
			t.Fatal(err)
		}
	}
}
