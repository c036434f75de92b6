package report

import (
	"testing"

	"github.com/synpath/synpath/verdict"
)

// TestSampleOwnsWhatItKeeps: the caller judges the next attempt into the
// same Result (verdict.JudgeInto); a row the table keeps must not change
// with it.
func TestSampleOwnsWhatItKeeps(t *testing.T) {
	s := newSample(4)
	r := verdict.Result{
		Verdict:    verdict.Timeout,
		Candidates: []verdict.Place{verdict.OutboundPath, verdict.Server},
		Evidence:   []verdict.Evidence{{What: "SYN"}},
		DNS:        &verdict.Lookup{Name: "a.example"},
	}
	s.add(&r, rankFailure)
	r.Candidates[0], r.Evidence[0].What, r.DNS.Name = verdict.ReturnPath, "RST", "b.example"
	kept := s.items[0].r
	if kept.Candidates[0] != verdict.OutboundPath || kept.Evidence[0].What != "SYN" || kept.DNS.Name != "a.example" {
		t.Errorf("the kept row changed with the Result it was copied from: %+v", kept)
	}
}
