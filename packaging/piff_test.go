package packaging

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/engine/verify"
)

// piffKey is one key for every track (ALL), so a PIFF 1.1 reader needs one key.
func piffKey(t *testing.T) drm.ContentKey {
	t.Helper()
	k, err := drm.ParseKeySpec("ALL=00112233445566778899aabbccddeeff:0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPIFFDownload packages a PIFF download and has others read it both ways:
//   - as CENC: Shaka Packager decrypts its video and audio back to the source bit for bit (the
//     PIFF boxes do not disturb a CENC reader), and Satchel's verify passes it;
//   - as PIFF 1.1: mp4box.js (GPAC's parser) finds the PIFF track encryption box of every
//     encrypted track (AES-CTR, 8-byte IVs, the KID), the PlayReady and Widevine PIFF pssh
//     boxes and a PIFF sample encryption box in every encrypted fragment; and rewritten as a
//     PIFF 1.1-only file (schm 'piff', no tenc, senc, saiz, saio, pssh), it decrypts through
//     mp4ff's PIFF support (uuid tenc and senc alone) back to the source bit for bit.
func TestPIFFDownload(t *testing.T) {
	key := piffKey(t)
	path := packageDownload(t, Config{PIFF: true, Keys: []drm.ContentKey{key}})
	src := testMedia + "multilang.mp4"
	t.Run("cenc/shaka-packager", func(t *testing.T) {
		packager := shakaPackager(t)
		compareSamples(t, "Shaka Packager PIFF download video", trackSamples(t, shakaDecrypt(t, packager, path, "video", key), 1),
			trackSamples(t, src, 1))
		compareSamples(t, "Shaka Packager PIFF download audio", trackSamples(t, shakaDecrypt(t, packager, path, "audio", key), 1),
			trackSamples(t, src, 2))
	})
	t.Run("cenc/verify", func(t *testing.T) {
		rep, err := verify.Verify(context.Background(), verify.Input{Path: path, Keys: []drm.ContentKey{key},
			Policy: policy.Preset(policy.PresetRental48h)})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() || rep.Samples == 0 {
			t.Fatalf("verify: %s", rep.Verdict())
		}
	})
	t.Run("piff/mp4box.js", func(t *testing.T) { checkPIFFBoxes(t, path, key) })
	t.Run("piff/decrypt", func(t *testing.T) {
		only := piffOnly(t, path)
		f, err := mp4.ReadMP4File(only)
		if err != nil {
			t.Fatal(err)
		}
		di, err := mp4.DecryptInit(f.Init)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint32][][]byte{}
		for _, seg := range f.Segments {
			for _, frag := range seg.Fragments {
				if frag.Moof.Traf.UUIDSenc == nil && frag.Moof.Traf.Tfhd.TrackID <= 3 {
					t.Fatalf("fragment of track %d has no PIFF senc", frag.Moof.Traf.Tfhd.TrackID)
				}
				if err := cenc.DecryptFragment(frag, di, []drm.ContentKey{key}); err != nil {
					t.Fatal(err)
				}
				fs, err := frag.GetFullSamples(nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range fs {
					got[frag.Moof.Traf.Tfhd.TrackID] = append(got[frag.Moof.Traf.Tfhd.TrackID], s.Data)
				}
			}
		}
		compareSamples(t, "PIFF-only video", got[1], trackSamples(t, src, 1))
		compareSamples(t, "PIFF-only audio", got[2], trackSamples(t, src, 2))
	})
}

// checkPIFFBoxes reads the download's PIFF boxes with mp4box.js.
func checkPIFFBoxes(t *testing.T, path string, key drm.ContentKey) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	mods, _ := filepath.Abs(filepath.Join("..", ".tools", "node_modules"))
	if _, err := os.Stat(filepath.Join(mods, "mp4box")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mp4box.js is not installed; scripts/deps.sh installs it (make test)")
		}
		t.Skip("mp4box.js not installed; run scripts/deps.sh")
	}
	cmd := exec.Command("node", "testdata/piffboxes.cjs", path)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mp4box.js: %v\n%s", err, out)
	}
	var got struct {
		Tenc []struct {
			Path      string `json:"path"`
			Algorithm int    `json:"algorithm"`
			IVSize    int    `json:"iv_size"`
			KID       string `json:"kid"`
		} `json:"tenc"`
		Pssh []struct {
			SystemID string `json:"system_id"`
			DataSize int    `json:"data_size"`
		} `json:"pssh"`
		Senc map[string]int `json:"senc"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Tenc) != 3 { // video, two audio tracks (subtitles are clear)
		t.Errorf("mp4box.js finds %d PIFF track encryption boxes, want 3: %s", len(got.Tenc), out)
	}
	for _, te := range got.Tenc {
		if te.Algorithm != 1 || te.IVSize != 8 || te.KID != key.KID.Hex() {
			t.Errorf("PIFF tenc at %s: algorithm %d, IV size %d, KID %s", te.Path, te.Algorithm, te.IVSize, te.KID)
		}
	}
	systems := map[string]bool{}
	for _, p := range got.Pssh {
		systems[p.SystemID] = p.DataSize > 0
	}
	for _, sys := range []drm.System{drm.PlayReady, drm.Widevine} {
		if !systems[hex.EncodeToString(sys.SystemID())] {
			t.Errorf("no PIFF pssh with data for %s: %s", sys, out)
		}
	}
	for _, id := range []string{"1", "2", "3"} { // three 2 s fragments per encrypted track
		if got.Senc[id] != 3 {
			t.Errorf("track %s: %d PIFF sample encryption boxes, want 3: %s", id, got.Senc[id], out)
		}
	}
}

// piffOnly rewrites a Satchel PIFF download into a file a PIFF 1.1-only packager would write:
// schm 'piff' version 0x00010001, and no tenc, senc, saiz, saio or pssh boxes, so a reader can
// only decrypt it through the PIFF uuid boxes.
func piffOnly(t *testing.T, in string) string {
	t.Helper()
	f, err := mp4.ReadMP4File(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, trak := range f.Init.Moov.Traks {
		for _, c := range trak.Mdia.Minf.Stbl.Stsd.Children {
			sinf := cenc.SampleEntrySinf(c)
			if sinf == nil {
				continue
			}
			sinf.Schm.SchemeType, sinf.Schm.SchemeVersion = "piff", 0x00010001
			sinf.Schi.Children = keep(sinf.Schi.Children, func(b mp4.Box) bool { return b.Type() != "tenc" })
			kept := sinf.Schi.Children
			sinf.Schi.Tenc, sinf.Schi.Children = nil, nil
			for _, b := range kept {
				sinf.Schi.AddChild(b) // derives tenc from the PIFF box, as decoding does
			}
		}
	}
	f.Init.Moov.Children = keep(f.Init.Moov.Children, func(b mp4.Box) bool { return b.Type() != "pssh" })
	f.Init.Moov.Psshs = nil
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			traf := frag.Moof.Traf
			traf.Children = keep(traf.Children, func(b mp4.Box) bool {
				return b.Type() != "senc" && b.Type() != "saiz" && b.Type() != "saio"
			})
			traf.Senc, traf.Saiz, traf.Saio = nil, nil, nil
		}
	}
	var b bytes.Buffer
	if err := f.Encode(&b); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "piff-only.ismv")
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func keep(bs []mp4.Box, ok func(mp4.Box) bool) []mp4.Box {
	var out []mp4.Box
	for _, b := range bs {
		if ok(b) {
			out = append(out, b)
		}
	}
	return out
}
