package verdict_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/verdict"
)

// fill sets every exported field reachable from v to a value of its own,
// so that a field the packer forgets (one added to flows.Attempt later)
// does not survive the round trip.
func fill(v reflect.Value, n *int) {
	*n++
	k := *n
	switch x := v.Addr().Interface().(type) {
	case *time.Time:
		*x = time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC).Add(time.Duration(k)*time.Millisecond + time.Duration(k%3)*time.Nanosecond)
		return
	case *netip.Addr:
		if k%2 == 0 {
			*x = netip.AddrFrom4([4]byte{10, 0, byte(k >> 8), byte(k)})
		} else {
			*x = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(k >> 8), 15: byte(k)})
		}
		return
	case *netip.AddrPort:
		var a netip.Addr
		fill(reflect.ValueOf(&a).Elem(), n)
		*x = netip.AddrPortFrom(a, uint16(k))
		return
	case *capture.Name:
		*x = capture.NameOf(fmt.Sprintf("Host%d.Example", k))
		x.Cut = k%2 == 0
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(k % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(k % 200))
	case reflect.String:
		v.SetString(fmt.Sprintf("file%d.pcap", k%2))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 3, 3))
		for i := range 3 {
			fill(v.Index(i), n)
		}
	default:
		panic("fill: no value for " + v.Type().String())
	}
}

func TestPackKeepsEveryField(t *testing.T) {
	var a flows.Attempt
	n := 0
	fill(reflect.ValueOf(&a).Elem(), &n)
	a.Events[1].N = 1 // packet numbers going back (another file)
	a.Events[2].TS = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	a.SYNOpts.WScale = -1
	a.ISN, a.ServerISN = 0xfedcba98, 0x89abcdef
	a.PortHops.Missed, a.PortHops.MissedAt, a.PortHops.MinRTT = 0, capture.Ref{}, 0 // never set (flows.Attempt.PortHops)
	p := verdict.NewPacker("file1.pcap")
	b := p.Pack(nil, &a)
	got := flows.Attempt{Events: make([]flows.Event, 0, 1)}
	if err := p.Unpack(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("round trip changed the attempt:\n got %+v\nwant %+v", got, a)
	}
	for cut := range b {
		if err := p.Unpack(b[:cut], &got); err == nil {
			t.Fatalf("%d of %d bytes unpacked without error", cut, len(b))
		}
	}
}

// exportedDiff names the first exported field where a and b differ, ""
// when none does (unexported fields are the tracker's own).
func exportedDiff(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() || a.Type() == reflect.TypeFor[netip.Addr]() ||
			a.Type() == reflect.TypeFor[netip.AddrPort]() || a.Type() == reflect.TypeFor[capture.Name]() {
			if !reflect.DeepEqual(a.Interface(), b.Interface()) {
				return fmt.Sprintf("%s: %v, want %v", path, a, b)
			}
			return ""
		}
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				if d := exportedDiff(a.Field(i), b.Field(i), path+"."+f.Name); d != "" {
					return d
				}
			}
		}
		return ""
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d long, want %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := exportedDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": nil against non-nil"
			}
			return ""
		}
		return exportedDiff(a.Elem(), b.Elem(), path)
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s: %v, want %v", path, a, b)
	}
	return ""
}

// readAttempts reads a capture held in memory through a tracker.
func readAttempts(t testing.TB, name string, b []byte, each func(*flows.Attempt)) {
	t.Helper()
	rd, err := capture.NewReader(name, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := flows.NewTracker(flows.Config{}, each)
	var p capture.Packet
	for {
		err := rd.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		tr.Observe(&p)
	}
	tr.Advance(rd.Stats().Last)
	tr.Finish()
}

func TestPackGeneratedAttempts(t *testing.T) {
	var c, s bytes.Buffer
	if _, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: 2000, Rate: 500, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	p := verdict.NewPacker("client.pcap", "server.pcap")
	var got flows.Attempt
	packed, cloned, n := 0, 0, 0
	each := func(a *flows.Attempt) {
		b := p.Pack(nil, a)
		if err := p.Unpack(b, &got); err != nil {
			t.Fatal(err)
		}
		if diff := exportedDiff(reflect.ValueOf(got), reflect.ValueOf(*a), "Attempt"); diff != "" {
			t.Fatalf("attempt %s unpacked otherwise: %s", a.Key.Client, diff)
		}
		packed += len(b)
		cloned += int(reflect.TypeFor[flows.Attempt]().Size() + reflect.TypeFor[flows.Event]().Size()*uintptr(len(a.Events)))
		n++
	}
	readAttempts(t, "client.pcap", c.Bytes(), each)
	readAttempts(t, "server.pcap", s.Bytes(), each)
	t.Logf("%d attempts: %d bytes packed each, %d cloned", n, packed/n, cloned/n)
	if packed*4 > cloned {
		t.Errorf("packed attempts take %d bytes, more than a quarter of the %d of a clone", packed/n, cloned/n)
	}
}
