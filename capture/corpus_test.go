package capture

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// corpusDir holds tcpdump's test captures, when the lab has fetched them.
const corpusDir = "../../shared/corpus/tcpdump-tests"

// TestCorpus reads every capture of the corpus to its end: no panic, and
// either a clean end or a positioned error.
func TestCorpus(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(corpusDir, "*"))
	if err != nil || len(names) == 0 {
		t.Skip("no corpus at", corpusDir)
	}
	var total Stats
	var files, openErrs, readErrs, truncated int
	for _, name := range names {
		r, err := Open(name)
		var re *ReadError
		if err != nil {
			if !errors.As(err, &re) || re.Packet != 0 || re.File != name {
				t.Errorf("%s: open: %v", name, err)
			}
			t.Logf("open: %v", err)
			openErrs++
			continue
		}
		files++
		var p Packet
		for err = r.Next(&p); err == nil; err = r.Next(&p) {
			if p.N == 0 || p.File != name {
				t.Errorf("%s: bad ref %v", name, p.Ref)
			}
			if p.Kind == KindDNS && (p.DNS.NAddrs > MaxDNSAddrs || p.DNS.Name.Len() > NameLen) {
				t.Errorf("%s: bad DNS %+v", name, p.DNS)
			}
		}
		st := r.Stats()
		if err != io.EOF {
			if !errors.As(err, &re) || (re.Packet != st.Packets+1 && !errors.Is(err, ErrTrailingData)) {
				t.Errorf("%s: %v", name, err)
			}
			if errors.Is(err, ErrTruncated) {
				truncated++
			} else {
				readErrs++
			}
			t.Logf("read: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
		total.Packets += st.Packets
		total.TCP += st.TCP
		total.ICMP += st.ICMP
		total.DNS += st.DNS
		total.Skipped += st.Skipped
		total.Malformed += st.Malformed
		total.Truncated += st.Truncated
		total.BadLength += st.BadLength
		total.BadTime += st.BadTime
	}
	t.Logf("%d files read, %d not opened, %d broken, %d truncated; %+v", files, openErrs, readErrs, truncated, total)
}
