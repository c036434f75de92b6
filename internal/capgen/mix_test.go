package capgen

import (
	"bytes"
	"testing"
)

func TestWriteMixDeterministic(t *testing.T) {
	gen := func(seed uint64) ([]byte, []byte, Truth) {
		var c, s bytes.Buffer
		tr, err := WriteMix(&c, &s, MixConfig{N: 300, Rate: 200, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return c.Bytes(), s.Bytes(), tr
	}
	c1, s1, t1 := gen(3)
	c2, s2, t2 := gen(3)
	if !bytes.Equal(c1, c2) || !bytes.Equal(s1, s2) || t1 != t2 {
		t.Error("the same seed wrote different captures")
	}
	if c3, _, _ := gen(4); bytes.Equal(c1, c3) {
		t.Error("another seed wrote the same capture")
	}
	if t1.Connections != 300 || t1.ClientPackets == 0 || t1.ServerPackets == 0 {
		t.Errorf("truth %+v", t1)
	}
}
