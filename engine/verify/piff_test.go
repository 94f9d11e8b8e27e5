package verify

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"
)

// No PIFF encoder is installable here (Bento4's mp4encrypt --method PIFF-CTR and GPAC are
// not in the registries this project may use), so the PIFF test file is made from a real
// encoder's output: Shaka Packager's cenc segments are rewritten box by box into PIFF 1.1
// form, as the AMS offline PlayReady flow served it (an .ismv-style fragmented MP4): schm
// 'piff' 1.1, the tenc replaced by the PIFF uuid tenc (8974dbce-…, AlgorithmID 1 = AES-CTR),
// each senc by the PIFF uuid senc (a2394f52-…), each pssh by the PIFF uuid pssh (d08a4f18-…).
// The encrypted bytes are Shaka Packager's, untouched.

func decodeFileBytes(t *testing.T, p string) *mp4.File {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

// segmentsOf lists a CMAF track folder's media segments in number order.
func segmentsOf(t *testing.T, dir string) []string {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.m4s"))
	sort.Slice(segs, func(i, j int) bool {
		return len(segs[i]) < len(segs[j]) || len(segs[i]) == len(segs[j]) && segs[i] < segs[j]
	})
	return segs
}

func toPIFFInit(t *testing.T, init *mp4.InitSegment) {
	t.Helper()
	for _, trak := range init.Moov.Traks {
		for _, c := range trak.Mdia.Minf.Stbl.Stsd.Children {
			var sinf *mp4.SinfBox
			switch se := c.(type) {
			case *mp4.VisualSampleEntryBox:
				sinf = se.Sinf
			case *mp4.AudioSampleEntryBox:
				sinf = se.Sinf
			}
			if sinf == nil {
				continue
			}
			tenc := sinf.Schi.Tenc
			sinf.Schm.SchemeType, sinf.Schm.SchemeVersion = "piff", 0x00010001
			u := &mp4.UUIDBox{PiffTenc: &mp4.PiffTencData{AlgorithmID: 1, IVSize: tenc.DefaultPerSampleIVSize, KID: tenc.DefaultKID}}
			if err := u.SetUUID(mp4.UUIDPiffTenc); err != nil {
				t.Fatal(err)
			}
			schi := &mp4.SchiBox{}
			schi.AddChild(u)
			for i, sc := range sinf.Children {
				if _, ok := sc.(*mp4.SchiBox); ok {
					sinf.Children[i] = schi
				}
			}
			sinf.Schi = schi
		}
	}
	var kids []mp4.Box
	for _, c := range init.Moov.Children {
		p, ok := c.(*mp4.PsshBox)
		if !ok {
			kids = append(kids, c)
			continue
		}
		payload := make([]byte, 4, 24+len(p.Data))
		payload = append(payload, p.SystemID...)
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(p.Data)))
		payload = append(payload, p.Data...)
		u := &mp4.UUIDBox{UnknownPayload: payload}
		if err := u.SetUUID(piffPSSHUUID); err != nil {
			t.Fatal(err)
		}
		kids = append(kids, u)
	}
	init.Moov.Children, init.Moov.Psshs, init.Moov.Pssh = kids, nil, nil
}

func toPIFFFragment(t *testing.T, f *mp4.Fragment) {
	t.Helper()
	for _, traf := range f.Moof.Trafs {
		for i, c := range traf.Children {
			senc, ok := c.(*mp4.SencBox)
			if !ok {
				continue
			}
			u := &mp4.UUIDBox{Senc: senc}
			if err := u.SetUUID(mp4.UUIDPiffSenc); err != nil {
				t.Fatal(err)
			}
			traf.Children[i], traf.Senc, traf.UUIDSenc = u, nil, u
			for _, tr := range traf.Truns {
				tr.DataOffset += 16 // the uuid's extended type grows the moof
			}
			if traf.Saio != nil && len(traf.Saio.Offset) == 1 {
				traf.Saio.Offset[0] += 16
			}
		}
	}
}

// piffFile writes one PIFF file from a Shaka Packager CMAF track folder.
func piffFile(t *testing.T, trackDir, out string) {
	t.Helper()
	init := decodeFileBytes(t, filepath.Join(trackDir, "init.mp4")).Init
	toPIFFInit(t, init)
	var b bytes.Buffer
	if err := init.Encode(&b); err != nil {
		t.Fatal(err)
	}
	for _, seg := range segmentsOf(t, trackDir) {
		for _, s := range decodeFileBytes(t, seg).Segments {
			for _, f := range s.Fragments {
				toPIFFFragment(t, f)
				if err := f.Encode(&b); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPeerPIFF(t *testing.T) {
	src := testMedia + "ladder_240p.mp4"
	dir := t.TempDir()
	shaka(t, dir, src, "cenc", false, "--clear_lead", "0")
	kid := peerKeys(t)[0].KID.String()
	for _, kind := range []string{"video", "audio"} {
		t.Run(kind, func(t *testing.T) {
			out := filepath.Join(dir, kind+".ismv")
			piffFile(t, filepath.Join(dir, kind), out)
			rep, err := Verify(context.Background(), Input{Path: out, Keys: peerKeys(t), SourceFiles: []string{src}})
			if err != nil {
				t.Fatal(err)
			}
			requirePass(t, rep, 1, true)
			if tr := rep.Inventory.Tracks[0]; !tr.PIFF || tr.Scheme != "cenc" {
				t.Errorf("inventory: %+v", tr)
			}
			if d := rep.Inventory.Downloads; len(d) != 1 || !d[0].PIFF {
				t.Errorf("downloads: %+v", d)
			}
			sigs := 0
			for _, s := range rep.Inventory.Signals {
				if s.Source == SourcePIFFPSSH {
					sigs++
				}
			}
			if sigs != 2 || !strings.Contains(findings(rep, Pass), "PIFF uuid senc") {
				t.Errorf("%d PIFF pssh signals, findings:\n%s", sigs, findings(rep, Pass))
			}
			rep, err = Verify(context.Background(), Input{Path: out, Keys: randomKeys(t)})
			if err != nil {
				t.Fatal(err)
			}
			requireWrongKeyFails(t, rep, kid)
		})
	}
}

// TestBento4SaizLayout mimics Bento4 (mp4encrypt --method MPEG-CBCS), which is not
// installable here: its fragments carry a saiz box that lists no samples (sample_count 0)
// while senc holds the per-sample data. Shaka Packager's cbcs segments are rewritten that way.
func TestBento4SaizLayout(t *testing.T) {
	src := testMedia + "ladder_240p.mp4"
	dir := t.TempDir()
	mpd := shaka(t, dir, src, "cbcs", false, "--clear_lead", "0")
	rewrote := 0
	for _, kind := range []string{"video", "audio"} {
		for _, seg := range segmentsOf(t, filepath.Join(dir, kind)) {
			mf := decodeFileBytes(t, seg)
			for _, s := range mf.Segments {
				for _, f := range s.Fragments {
					for _, traf := range f.Moof.Trafs {
						if traf.Saiz != nil {
							traf.Saiz.SampleCount, traf.Saiz.SampleInfo = 0, nil
							rewrote++
						}
					}
					f.SetTrunDataOffsets()
				}
			}
			var b bytes.Buffer
			if err := mf.Encode(&b); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rewrote == 0 {
		t.Fatal("no saiz box to rewrite")
	}
	rep, err := Verify(context.Background(), Input{Path: mpd, Keys: peerKeys(t), SourceFiles: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	requirePass(t, rep, 2, true)
	if !strings.Contains(findings(rep, Pass), "saiz lists 0 samples") {
		t.Errorf("saiz layout not reported:\n%s", findings(rep, Pass))
	}
}
