package cmd

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*readAheadChunk+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	// Data and the error after it arrive as r gave them, whatever the
	// read sizes.
	boom := errors.New("boom")
	for _, tt := range []struct {
		r       io.Reader
		wantErr error // from ReadAll: nil at io.EOF
	}{
		{bytes.NewReader(data), nil},
		{iotest.HalfReader(bytes.NewReader(data)), nil},
		{io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)), boom},
	} {
		ra := newReadAhead(tt.r)
		got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(ra, 1000)))
		if err != nil || !bytes.Equal(got, data[:1000]) {
			t.Fatalf("first bytes: %v", err)
		}
		rest, err := io.ReadAll(ra)
		if !bytes.Equal(rest, data[1000:]) {
			t.Errorf("read %d bytes after the first 1000, want %d", len(rest), len(data)-1000)
		}
		if err != tt.wantErr {
			t.Errorf("error %v, want %v", err, tt.wantErr)
		}
		if _, err := ra.Read(make([]byte, 10)); err == nil {
			t.Error("no error at the end")
		}
		ra.Close()
	}
	// Closed halfway, it stops and waits for its goroutine.
	ra := newReadAhead(bytes.NewReader(data))
	ra.Read(make([]byte, 10))
	ra.Close()
	ra.Close()
}
