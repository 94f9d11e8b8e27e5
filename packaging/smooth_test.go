package packaging

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/policy"
	"satchel/engine/verify"
	"satchel/internal/field"
)

// packageSmooth packages the 240p and 360p rungs and the multilingual file's audio with a
// Smooth client manifest (both schemes, every format).
func packageSmooth(t *testing.T, cfg Config) (string, *Result) {
	t.Helper()
	cfg.Inputs = []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_360p.mp4"}
	cfg.Audio = []AudioInput{{Path: testMedia + "multilang.mp4"}}
	cfg.OutDir = filepath.Join(t.TempDir(), "pkg")
	cfg.SegmentDuration = 2 * time.Second
	cfg.Smooth = true
	res, err := Package(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.OutDir, res
}

// TestSmoothLayout checks the shared layout: the Smooth manifest's every fragment exists at
// its Url, and the cenc MPD and HLS playlists name exactly those files (no second copy); the
// fragments carry PIFF sample encryption and tfxd boxes and the inits the PIFF track
// encryption box; CodecPrivateData and the ProtectionHeader's KID match the init segments; and
// Satchel's verify passes the whole package.
func TestSmoothLayout(t *testing.T) {
	key := piffKey(t)
	out, res := packageSmooth(t, Config{Keys: []drm.ContentKey{key}})
	b, err := os.ReadFile(filepath.Join(out, manifest.FileSmooth))
	if err != nil {
		t.Fatal(err)
	}
	info, err := manifest.ReadSmooth(bytes.NewReader(b), 10000)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range info.Streams {
		kinds = append(kinds, s.Type+":"+s.Name+":"+s.Language)
	}
	// ladder audio (once: identical in both rungs) plus the multilingual file's two tracks.
	if got := strings.Join(kinds, " "); !strings.HasPrefix(got, "video:video: audio:") || len(info.Streams) < 3 {
		t.Fatalf("streams %s", got)
	}
	if len(info.Protection) != 1 || !strings.EqualFold(info.Protection[0].SystemID, drm.PlayReadySystemID) {
		t.Fatalf("protection %+v", info.Protection)
	}
	pr, err := drm.ParsePlayReadyObject(info.Protection[0].Data)
	if err != nil || len(pr.KIDs) != 1 || pr.KIDs[0] != key.KID || pr.Version != drm.PlayReadyHeaderV40 {
		t.Fatalf("ProtectionHeader: %+v %v", pr, err)
	}
	smoothFiles := map[string]bool{}
	dir := filepath.Join(out, "cenc")
	for _, s := range info.Streams {
		for _, q := range s.Qualities {
			for _, f := range s.Fragments {
				rel := s.FragmentURL(q, f.Start)
				smoothFiles["cenc/"+rel] = true
				checkSmoothFragment(t, filepath.Join(dir, filepath.FromSlash(rel)), f.Start)
			}
		}
	}
	var cencSegs int
	for _, r := range res.Renditions {
		if r.Kind == media.Text {
			continue
		}
		if r.Smooth == nil {
			t.Fatalf("rendition %s has no Smooth description", r.ID)
		}
		checkSmoothInit(t, filepath.Join(out, r.InitPath), r.Smooth.CodecPrivateData, key.KID)
		for _, s := range r.Segments {
			cencSegs++
			if !smoothFiles[s.Path] {
				t.Errorf("segment %s of %s is not a Smooth fragment", s.Path, r.ID)
			}
		}
	}
	if cencSegs != len(smoothFiles) {
		t.Errorf("%d cenc segments, %d Smooth fragments", cencSegs, len(smoothFiles))
	}
	mpd, err := os.ReadFile(filepath.Join(out, manifest.FileMPD))
	if err != nil {
		t.Fatal(err)
	}
	mi, err := manifest.ReadMPD(bytes.NewReader(mpd))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mi.Representations {
		if strings.HasSuffix(r.ID, "_trick") || r.ContentType == "text" {
			continue
		}
		for _, u := range r.SegmentURLs {
			if !smoothFiles[u] {
				t.Errorf("MPD representation %s names %s, not a Smooth fragment", r.ID, u)
			}
		}
	}
	checkHLSNamesSmooth(t, out, "cenc/240p/playlist.m3u8", smoothFiles)
	m, _ := filepath.Glob(filepath.Join(out, "cenc", "*", "seg_*.m4s"))
	for _, f := range m {
		if !strings.Contains(f, "_trick") { // DASH trick play: one I-frame per segment, a track of its own
			t.Errorf("cenc segment written twice: %s", f)
		}
	}
	rep, err := verify.Verify(context.Background(), verify.Input{Path: out, Keys: []drm.ContentKey{key},
		Policy: policy.Preset(policy.PresetRental48h)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Fatalf("verify: %s", rep.Verdict())
	}
	for _, n := range rep.Inventory.NotChecked {
		if strings.Contains(n.Reason, "not referenced") {
			t.Errorf("verify lists %s as unreferenced", n.File)
		}
	}
}

// checkHLSNamesSmooth checks that a cenc media playlist lists Smooth fragments.
func checkHLSNamesSmooth(t *testing.T, out, playlist string, smoothFiles map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(playlist)))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := manifest.ReadHLS(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Segments) == 0 {
		t.Fatalf("%s lists no segments", playlist)
	}
	for _, s := range pl.Segments {
		if !smoothFiles[path.Join(path.Dir(playlist), s)] {
			t.Errorf("%s lists %s, not a Smooth fragment", playlist, s)
		}
	}
}

// checkSmoothFragment checks one Smooth fragment file: tfdt and tfxd say its start time, and
// it carries the PIFF sample encryption box beside senc.
func checkSmoothFragment(t *testing.T, p string, start uint64) {
	t.Helper()
	f, err := mp4.ReadMP4File(p)
	if err != nil {
		t.Fatalf("Smooth fragment: %v", err)
	}
	traf := f.Segments[0].Fragments[0].Moof.Traf
	var tfxd, piff bool
	for _, c := range traf.Children {
		if u, ok := c.(*mp4.UUIDBox); ok {
			switch u.UUID() {
			case mp4.UUIDTfxd:
				tfxd = u.Tfxd.FragmentAbsoluteTime == start
			case cenc.PIFFSampleEncryptionUUID:
				piff = true
			}
		}
	}
	if traf.Tfdt.BaseMediaDecodeTime() != start || !tfxd || !piff || traf.Senc == nil {
		t.Errorf("%s: tfdt %d, want %d; tfxd %v, PIFF senc %v, senc %v", p, traf.Tfdt.BaseMediaDecodeTime(), start, tfxd,
			piff, traf.Senc != nil)
	}
}

// checkSmoothInit checks that an init segment's sample entry gives the CodecPrivateData and
// that its tenc and PIFF tenc name the key.
func checkSmoothInit(t *testing.T, p, cpd string, kid drm.KID) {
	t.Helper()
	f, err := mp4.ReadMP4File(p)
	if err != nil {
		t.Fatal(err)
	}
	entry := f.Init.Moov.Trak.Mdia.Minf.Stbl.Stsd.Children[0]
	st, err := manifest.SmoothCodec(entry)
	if err != nil || st.CodecPrivateData != cpd {
		t.Errorf("%s: CodecPrivateData %q (%v), manifest %q", p, st.CodecPrivateData, err, cpd)
	}
	sinf := cenc.SampleEntrySinf(entry)
	var piff *mp4.UUIDBox
	for _, c := range sinf.Schi.Children {
		if u, ok := c.(*mp4.UUIDBox); ok && u.UUID() == cenc.PIFFTrackEncryptionUUID {
			piff = u
		}
	}
	if drm.KID(sinf.Schi.Tenc.DefaultKID) != kid || piff == nil || drm.KID(piff.PiffTenc.KID) != kid {
		t.Errorf("%s: tenc KID %x, PIFF tenc %v, want %s", p, sinf.Schi.Tenc.DefaultKID, piff != nil, kid)
	}
}

// TestSmoothRefuses checks the configurations a Smooth manifest cannot describe.
func TestSmoothRefuses(t *testing.T) {
	ins := []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_720p.mp4"}
	sd, _ := drm.ParseKeySpec("SD=00112233445566778899aabbccddeeff:0123456789abcdef0123456789abcdef")
	for name, cfg := range map[string]Config{
		"cbcs only":    {Schemes: []drm.Scheme{drm.SchemeCBCS}},
		"no playready": {Systems: []drm.System{drm.Widevine}},
		"two keys":     {Keys: []drm.ContentKey{sd}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Inputs, cfg.OutDir, cfg.Smooth = ins, filepath.Join(t.TempDir(), "pkg"), true
			_, err := Package(context.Background(), cfg, nil)
			var fe *field.Error
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a field error", err)
			}
			if _, serr := os.Stat(cfg.OutDir); !os.IsNotExist(serr) {
				t.Errorf("output left behind after %v", err)
			}
		})
	}
	t.Run("hevc", func(t *testing.T) {
		_, err := Package(context.Background(), Config{Inputs: []string{testMedia + "hevc_720p.mp4"},
			OutDir: filepath.Join(t.TempDir(), "pkg"), Smooth: true}, nil)
		var ue *UnsupportedTrackError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "Smooth") {
			t.Fatalf("got %v", err)
		}
	})
}
