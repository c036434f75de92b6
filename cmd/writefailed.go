package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

// maxFailedFrames bounds the frames --write-failed remembers (16 bytes and
// a shared comment each); past it, later failures' packets are left out
// and the footer says how many.
const maxFailedFrames = 1 << 21

// failedFrames are the frames behind failed attempts, per input file, with
// the comment each gets in the --write-failed file.
type failedFrames struct {
	byFile  map[string]map[uint64]string
	n       int
	dropped int
}

// add remembers the evidence frames of a failed attempt.
func (f *failedFrames) add(r *verdict.Result) {
	if f.byFile == nil {
		f.byFile = map[string]map[uint64]string{}
	}
	comment := fmt.Sprintf("synpath: %s, where %s: %s → %s", r.Verdict, r.Where, r.Client, r.Server)
	if r.Cause != "" {
		comment += " (" + string(r.Cause) + ")"
	}
	for _, e := range r.Evidence {
		if f.n >= maxFailedFrames {
			f.dropped++
			continue
		}
		m := f.byFile[e.File]
		if m == nil {
			m = map[uint64]string{}
			f.byFile[e.File] = m
		}
		if _, ok := m[e.N]; !ok {
			f.n++
		}
		m[e.N] = comment
	}
}

// write reads the input files again and writes the remembered frames to
// path as pcapng, each file's interfaces kept apart and named after it,
// each packet with its original frame number (frame.packet_id) and a
// comment naming the verdict.
func (f *failedFrames) write(ctx context.Context, path string, files []string) ([]string, error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--write-failed: %w", err)
	}
	pw, err := capture.NewPcapngWriter(out, true)
	if err != nil {
		out.Close()
		return nil, err
	}
	var warnings []string
	for i, name := range files {
		frames := f.byFile[readName(name)]
		if len(frames) == 0 {
			continue
		}
		if name == "-" {
			warnings = append(warnings, fmt.Sprintf("--write-failed: standard input cannot be read twice: its %d frames of failed attempts are not in %s", len(frames), path))
			continue
		}
		if err := copyFrames(ctx, pw, name, i, frames); err != nil {
			out.Close()
			return warnings, err
		}
	}
	if f.dropped > 0 {
		warnings = append(warnings, fmt.Sprintf("--write-failed: %d frames of failed attempts left out of %s (more than %d)", f.dropped, path, maxFailedFrames))
	}
	if err := pw.Flush(); err != nil {
		out.Close()
		return warnings, err
	}
	return warnings, out.Close()
}

// copyFrames writes the frames of one input file that frames names.
func copyFrames(ctx context.Context, pw *capture.PcapngWriter, name string, index int, frames map[uint64]string) error {
	rd, err := capture.Open(name)
	if err != nil {
		return err
	}
	defer rd.Close()
	rd.SetContext(ctx)
	var werr error
	base := filepath.Base(name)
	rd.OnFrame(func(fr *capture.Frame) {
		c, ok := frames[fr.N]
		if !ok || werr != nil {
			return
		}
		w := *fr
		w.Iface = index<<16 | fr.Iface
		w.IfName = base
		if fr.IfName != "" {
			w.IfName += ":" + fr.IfName
		}
		w.Comment = c
		werr = pw.WriteFrame(&w)
	})
	var p capture.Packet
	for {
		err := rd.Next(&p)
		if errors.Is(err, io.EOF) {
			return werr
		}
		if err != nil {
			// The first read gave its warnings; what was read is written.
			return werr
		}
		if werr != nil {
			return werr
		}
	}
}
