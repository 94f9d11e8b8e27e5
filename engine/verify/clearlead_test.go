package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/packaging"
)

// rewriteSegment decodes a segment file, lets edit change each traf, and writes it back.
func rewriteSegment(t *testing.T, p string, edit func(traf *mp4.TrafBox) bool) bool {
	t.Helper()
	mf := decodeFileBytes(t, p)
	changed := false
	for _, s := range mf.Segments {
		for _, f := range s.Fragments {
			for _, traf := range f.Moof.Trafs {
				changed = edit(traf) || changed
			}
			f.SetTrunDataOffsets()
		}
	}
	var b bytes.Buffer
	if err := mf.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return changed
}

func dropBoxes(traf *mp4.TrafBox, types ...string) bool {
	var kept []mp4.Box
	dropped := false
	for _, c := range traf.Children {
		drop := false
		for _, ty := range types {
			drop = drop || c.Type() == ty
		}
		if drop {
			dropped = true
			continue
		}
		kept = append(kept, c)
	}
	traf.Children, traf.Truns, traf.Trun = nil, nil, nil
	traf.Sbgp, traf.Sgpd, traf.Senc, traf.Saiz, traf.Saio = nil, nil, nil, nil, nil
	for _, c := range kept {
		_ = traf.AddChild(c)
	}
	return dropped
}

// TestClearLeadWithoutSenc: a clear lead signalled only by leaving senc out is taken as clear
// (with a warning), and decoding proves it; an encrypted fragment stripped of its senc is
// caught by the decoder, never passed.
func TestClearLeadWithoutSenc(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out,
		Schemes: []drm.Scheme{drm.SchemeCENC}, Formats: []packaging.Format{packaging.FormatDASH}, SegmentDuration: 2 * time.Second,
		ClearLead: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(out, "cenc", "240p")
	if !rewriteSegment(t, filepath.Join(video, "seg_00001.m4s"), func(traf *mp4.TrafBox) bool { return dropBoxes(traf, "sbgp", "sgpd") }) {
		t.Fatal("the clear-lead segment has no seig group to drop")
	}
	rep, err := Verify(context.Background(), Input{Path: video, Keys: res.Keys, SourceFiles: []string{testMedia + "ladder_240p.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	requirePass(t, rep, 1, true)
	if !strings.Contains(findings(rep, Warn), "carry no senc") || !strings.Contains(findings(rep, Pass), "clear lead (no-senc)") {
		t.Fatalf("no-senc clear lead not reported:\n%s\n%s", findings(rep, Warn), findings(rep, Pass))
	}
	// An encrypted fragment without its senc must fail decoding, not pass as "clear".
	if !rewriteSegment(t, filepath.Join(video, "seg_00002.m4s"), func(traf *mp4.TrafBox) bool { return dropBoxes(traf, "senc", "saiz", "saio") }) {
		t.Fatal("the encrypted segment has no senc to drop")
	}
	rep, err = Verify(context.Background(), Input{Path: video, Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() || !strings.Contains(findings(rep, Fail), "decoder") {
		t.Fatalf("an encrypted fragment without senc passed:\n%s", findings(rep, Fail))
	}
}
