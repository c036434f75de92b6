package capture

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// filterExprs are checked against tcpdump over the lab's captures.
var filterExprs = []string{
	"host 203.0.113.5 and port 80",
	"net 198.51.100.0/24",
	"not port 22",
	"tcp or icmp",
	"src host 198.51.100.10",
	"dst port 80",
	"src 203.0.113.5",
	"ip", "ip6", "icmp", "icmp6", "udp", "tcp",
	"src net 203.0.113.0/24 or dst portrange 1000-40000",
	"tcp port 80 or 443",
	"not (src port 80 and tcp)",
	"host 2001:db8:5::5",
	"net 2001:db8::/32 && !tcp dst port 80",
	"proto 6", "ip proto 1", "ip6 proto 58",
	"tcp and not host 203.0.113.5",
	"icmp or (tcp and dst net 203.0.113.0/25)",
	"portrange 79-81 and ip6",
	"net 198.51.100.0/24 and (host 203.0.113.5 or host 203.0.113.6) and not src port 80",
}

// TestFilterAgainstTcpdump runs each expression over the lab's captures
// (Ethernet, IPv6, VLAN-tagged, Linux cooked v1 and v2) in x/net's BPF
// interpreter and with tcpdump, and compares the frames that pass.
func TestFilterAgainstTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("no tcpdump")
	}
	files, _ := filepath.Glob("../testdata/scenarios/*/client.pcap")
	more, _ := filepath.Glob("../testdata/scenarios/fmt-sll*/server.pcap")
	files = append(files, more...)
	if testing.Short() {
		files = files[:min(len(files), 4)]
	}
	if len(files) == 0 {
		t.Skip("no lab captures")
	}
	checked, passed := 0, 0
	for _, expr := range filterExprs {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		for _, file := range files {
			var ours []string
			r, err := Open(file)
			if err != nil {
				t.Fatal(err)
			}
			r.OnFrame(func(fr *Frame) {
				if f.Match(fr.Link, fr.Data) {
					ours = append(ours, fmt.Sprintf("%d.%09d", fr.TS.Unix(), fr.TS.Nanosecond()))
				}
			})
			var p Packet
			for r.Next(&p) != ErrNoPacket && r.err == nil {
			}
			r.Close()
			out, err := exec.Command("tcpdump", "-r", file, "-n", "-tt", "--time-stamp-precision=nano", "-q", expr).Output()
			if err != nil {
				t.Fatalf("tcpdump %q on %s: %v", expr, file, err)
			}
			var theirs []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if fs := strings.Fields(l); len(fs) > 0 {
					theirs = append(theirs, fs[0])
				}
			}
			checked++
			passed += len(theirs)
			if strings.Join(ours, " ") != strings.Join(theirs, " ") {
				t.Errorf("%q on %s: %d frames pass, tcpdump passes %d:\n ours    %.300v\n tcpdump %.300v", expr, file, len(ours), len(theirs), ours, theirs)
			}
		}
	}
	t.Logf("%d expression-capture pairs agree with tcpdump (%d frames passed in all)", checked, passed)
}

// TestFilterRefuses names the word it does not support.
func TestFilterRefuses(t *testing.T) {
	for expr, word := range map[string]string{
		"tcp[13] & 2 != 0":              `"tcp[13]"`,
		"vlan and tcp":                  `"vlan"`,
		"ether host 02:00:00:00:00:01":  `"ether"`,
		"host example.com":              `"example.com"`,
		"port http":                     `"http"`,
		"tcp and":                       "ends too soon",
		"(tcp":                          "missing )",
		"tcp port 80 )":                 `")"`,
		"greater 100":                   `"greater"`,
		"ip host 192.0.2.1":             `"ip"`,
		"src port 80 or dst 2001:db8::": "",
	} {
		_, err := ParseFilter(expr)
		if word == "" {
			if err != nil {
				t.Errorf("%q: %v", expr, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), word) {
			t.Errorf("%q: error %v, want one naming %s", expr, err, word)
		}
	}
}

// TestFilterPrograms checks every program fits classic BPF for the kernel,
// ahead of the live filter, and that the two together keep what each
// keeps, over the lab's packets on Ethernet and as raw IP (-i any).
func TestFilterPrograms(t *testing.T) {
	var frames [][]byte
	for _, file := range []string{"../testdata/scenarios/mixed/client.pcap", "../testdata/scenarios/ipv6-refused/client.pcap", "../testdata/scenarios/icmp-admin-prohibited/client.pcap"} {
		r, err := Open(file)
		if err != nil {
			t.Skip(err)
		}
		r.OnFrame(func(f *Frame) {
			if f.Link == linkEthernet {
				frames = append(frames, bytes.Clone(f.Data))
			}
		})
		var p Packet
		for r.Next(&p) == nil {
		}
		r.Close()
	}
	for _, expr := range filterExprs {
		f, _ := ParseFilter(expr)
		for _, link := range []uint32{linkEthernet, linkLinuxSLL, linkLinuxSLL2, linkRaw, linkIPv4, linkIPv6} {
			ours := liveFilter(liveSnap)
			if link == linkRaw {
				ours = liveFilterRaw(liveSnap)
			}
			prog, err := f.Program(link, ours)
			if err == nil {
				_, err = bpf.Assemble(prog)
			}
			if err != nil {
				t.Errorf("%q on link %d: %v", expr, link, err)
				continue
			}
			if link != linkEthernet && link != linkRaw {
				continue
			}
			both, _ := bpf.NewVM(prog)
			alone, _ := bpf.NewVM(ours)
			for i, fr := range frames {
				if link == linkRaw {
					fr = fr[14:]
				}
				n, err := both.Run(fr)
				want, _ := alone.Run(fr)
				if !f.Match(link, fr) {
					want = 0
				}
				if err != nil || n != want {
					t.Errorf("%q on link %d, frame %d: kept %d (%v), want %d", expr, link, i, n, err, want)
				}
			}
		}
	}
}

// FuzzParseFilter: any expression either parses and compiles, for every
// link type, to a program the kernel accepts and the VM runs, or is
// refused with an error; never a panic.
func FuzzParseFilter(f *testing.F) {
	for _, e := range filterExprs {
		f.Add(e)
	}
	f.Add("tcp[13] & 2 != 0")
	f.Add("((((tcp))))")
	f.Add("not not not ip6")
	s := frame(linkEthernet, syn(cli4, srv4).ip())
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil || flt == nil {
			return
		}
		for _, link := range []uint32{linkEthernet, linkLinuxSLL2, linkRaw} {
			prog, err := flt.Program(link, liveFilter(liveSnap))
			if err != nil {
				if strings.Contains(err.Error(), "too long") {
					continue
				}
				t.Fatalf("%q: %v", expr, err)
			}
			if _, err := bpf.Assemble(prog); err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
		}
		flt.Match(linkEthernet, s)
		flt.Match(linkRaw, s[14:])
	})
}
