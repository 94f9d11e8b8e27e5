package packaging

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/probe"
)

const testMedia = "../testdata/media/"

// sourceSamples returns the clear bytes of every sample of the source's track of kind.
func sourceSamples(t *testing.T, path, kind string) [][]byte {
	t.Helper()
	f, err := probe.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := f.Asset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tr := a.Video()
	if kind == "audio" {
		tr = a.Audio()
	}
	ss, err := f.Samples(tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	buf, _, err := sampleData(f.F, ss)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(ss))
	pos := 0
	for i, s := range ss {
		out[i] = append([]byte(nil), buf[pos:pos+int(s.Size)]...)
		pos += int(s.Size)
	}
	return out
}

func decodeFile(t *testing.T, path string) *mp4.File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	mf, err := mp4.DecodeFile(fh)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return mf
}

// decryptedSamples decrypts a CMAF track (init + segments) and returns its samples per track ID.
func decryptedSamples(t *testing.T, init *mp4.InitSegment, frags []*mp4.Fragment, keys []drm.ContentKey) map[uint32][][]byte {
	t.Helper()
	di, err := mp4.DecryptInit(init)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32][][]byte{}
	for _, f := range frags {
		if err := cenc.DecryptFragment(f, di, keys); err != nil {
			t.Fatal(err)
		}
		for _, ti := range di.TrackInfos {
			fs, err := f.GetFullSamples(ti.Trex)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range fs {
				out[ti.TrackID] = append(out[ti.TrackID], s.Data)
			}
		}
	}
	return out
}

func compareSamples(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d samples, source has %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: sample %d differs from the source after decryption", what, i+1)
		}
	}
}

func TestPackageRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	inputs := []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_720p.mp4", testMedia + "ladder_360p.mp4"}
	var events []Progress
	var mu = make(chan struct{}, 1)
	res, err := Package(context.Background(), Config{Inputs: inputs, OutDir: out, SegmentDuration: 2 * time.Second,
		ClearKeyLAURL: "http://127.0.0.1:8787/clearkey", PlayReadyLAURL: "https://pr.example.com/rightsmanager.asmx"},
		func(p Progress) { mu <- struct{}{}; events = append(events, p); <-mu })
	if err != nil {
		t.Fatal(err)
	}
	// Keys: SD (240p, 360p), HD (720p), AUDIO.
	types := map[string]bool{}
	for _, k := range res.Keys {
		types[k.TrackType] = true
	}
	if len(res.Keys) != 3 || !types["SD"] || !types["HD"] || !types["AUDIO"] {
		t.Fatalf("keys %+v", res.Keys)
	}
	for _, f := range []string{"manifest.mpd", "manifest_cbcs.mpd", "master.m3u8", "keys.cpix.xml", "cenc/240p/init.mp4", "cbcs/audio/playlist.m3u8", "download/720p.mp4"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if matches, _ := filepath.Glob(out + ".tmp-*"); len(matches) > 0 {
		t.Errorf("temp folders left: %v", matches)
	}
	doneRenditions := map[string]bool{}
	for _, e := range events {
		if e.Done {
			doneRenditions[e.Rendition] = true
		}
		if e.Err != "" {
			t.Errorf("progress error %s", e.Err)
		}
	}
	if len(doneRenditions) != 4 {
		t.Errorf("done events for %v, want 4 renditions", doneRenditions)
	}
	srcOf := map[string]string{"240p": inputs[0], "720p": inputs[1], "360p": inputs[2]}
	for _, scheme := range []string{"cenc", "cbcs"} {
		for _, id := range []string{"240p", "360p", "720p", "audio"} {
			dir := filepath.Join(out, scheme, id)
			init := decodeFile(t, filepath.Join(dir, "init.mp4")).Init
			kid, sch, ok := cenc.TrackKID(init, 1)
			if !ok || sch != scheme {
				t.Fatalf("%s/%s: protection %s %v", scheme, id, sch, ok)
			}
			if _, ok := drm.KeyByKID(res.Keys, kid); !ok {
				t.Fatalf("%s/%s: KID %s not in result keys", scheme, id, kid)
			}
			segs, _ := filepath.Glob(filepath.Join(dir, "seg_*.m4s"))
			if len(segs) != 3 {
				t.Fatalf("%s/%s: %d segments, want 3 (6 s at 2 s)", scheme, id, len(segs))
			}
			var frags []*mp4.Fragment
			for _, s := range segs {
				mf := decodeFile(t, s)
				for _, seg := range mf.Segments {
					frags = append(frags, seg.Fragments...)
				}
				// Every encrypted fragment, cbcs audio included, carries senc, saiz and saio.
				if boxes := fragmentBoxes(frags[len(frags)-1]); !strings.Contains(boxes, "saiz,saio,senc") {
					t.Fatalf("%s: encrypted fragment without senc/saiz/saio: %s", s, boxes)
				}
			}
			// Encrypted bytes differ from the source…
			kind, src := "video", srcOf[id]
			if id == "audio" {
				kind, src = "audio", inputs[2] // all rungs carry the same audio; any is the source
			}
			want := sourceSamples(t, src, kind)
			got := decryptedSamples(t, init, frags, res.Keys)
			compareSamples(t, scheme+"/"+id, got[1], want)
			// …and a wrong key does not give the source back.
			wrong := append([]drm.ContentKey(nil), res.Keys...)
			for i := range wrong {
				wrong[i].Key[0] ^= 0xff
			}
			var frags2 []*mp4.Fragment
			for _, s := range segs {
				for _, seg := range decodeFile(t, s).Segments {
					frags2 = append(frags2, seg.Fragments...)
				}
			}
			init2 := decodeFile(t, filepath.Join(dir, "init.mp4")).Init
			bad := decryptedSamples(t, init2, frags2, wrong)
			if bytes.Equal(bad[1][0], want[0]) && kind == "video" {
				t.Fatalf("%s/%s decrypts with a wrong key", scheme, id)
			}
		}
	}
	// Single-file download: video + audio, cenc, sidx covering every segment.
	mf := decodeFile(t, filepath.Join(out, "download", "360p.mp4"))
	if mf.Sidx == nil || len(mf.Sidx.SidxRefs) != 3 {
		t.Fatalf("download sidx: %+v", mf.Sidx)
	}
	var frags []*mp4.Fragment
	var total uint32
	for _, seg := range mf.Segments {
		frags = append(frags, seg.Fragments...)
	}
	for _, r := range mf.Sidx.SidxRefs {
		total += r.ReferencedSize
	}
	var fragBytes uint64
	for _, f := range frags {
		fragBytes += f.Size()
	}
	if uint64(total) != fragBytes {
		t.Fatalf("sidx references %d bytes, fragments are %d", total, fragBytes)
	}
	got := decryptedSamples(t, mf.Init, frags, res.Keys)
	compareSamples(t, "download video", got[1], sourceSamples(t, inputs[2], "video"))
	compareSamples(t, "download audio", got[2], sourceSamples(t, inputs[2], "audio"))
}

func fragmentBoxes(f *mp4.Fragment) string {
	var names []string
	for _, c := range f.Moof.Traf.Children {
		names = append(names, c.Type())
	}
	return strings.Join(names, ",")
}

func TestPackageHEVCAndFragmentedInput(t *testing.T) {
	for _, in := range []string{"hevc_720p.mp4", "fragmented_360p.mp4"} {
		out := filepath.Join(t.TempDir(), "pkg")
		res, err := Package(context.Background(), Config{Inputs: []string{testMedia + in}, OutDir: out, Formats: []Format{FormatDASH, FormatMP4}}, nil)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		id := res.Renditions[0].ID
		for _, scheme := range []string{"cenc", "cbcs"} {
			dir := filepath.Join(out, scheme, id)
			init := decodeFile(t, filepath.Join(dir, "init.mp4")).Init
			segs, _ := filepath.Glob(filepath.Join(dir, "seg_*.m4s"))
			var frags []*mp4.Fragment
			for _, s := range segs {
				for _, seg := range decodeFile(t, s).Segments {
					frags = append(frags, seg.Fragments...)
				}
			}
			got := decryptedSamples(t, init, frags, res.Keys)
			compareSamples(t, in+" "+scheme, got[1], sourceSamples(t, testMedia+in, "video"))
		}
	}
}

func TestPackageErrorsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"misaligned", Config{Inputs: []string{testMedia + "ladder_240p.mp4", testMedia + "misaligned_360p.mp4"}}, "misaligned_360p.mp4"},
		{"audio only", Config{Inputs: []string{testMedia + "audio_only.m4a"}}, "no video"},
		{"missing", Config{Inputs: []string{filepath.Join(dir, "nope.mp4")}}, "does not exist"},
		{"bad scheme", Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, Schemes: []drm.Scheme{drm.SchemeCBC1}}, "cenc or cbcs"},
		{"duplicate KID", Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, Keys: func() []drm.ContentKey {
			a, _ := drm.RandomContentKey("SD")
			b := a
			b.TrackType = "AUDIO"
			return []drm.ContentKey{a, b}
		}()}, "used for both"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.OutDir = filepath.Join(dir, "out", string(rune('a'+i)))
			_, err := Package(context.Background(), c.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want error containing %q", err, c.want)
			}
			if _, err := os.Stat(c.cfg.OutDir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("output folder exists after failure")
			}
		})
	}
	// Cancellation midway leaves no output and no temp folder.
	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(dir, "cancelled")
	_, err := Package(ctx, Config{Inputs: []string{testMedia + "ladder_720p.mp4"}, OutDir: out, SegmentDuration: 2 * time.Second},
		func(p Progress) {
			if p.Fragments >= 1 {
				cancel()
			}
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled package: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*cancelled*"))
	if len(left) > 0 {
		t.Fatalf("cancelled package left %v", left)
	}
	// An unwritable destination is a clear error.
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: filepath.Join(ro, "x")}, nil); err == nil || !strings.Contains(err.Error(), "writable") {
			t.Fatalf("read-only destination: %v", err)
		}
	}
	// A non-empty destination is refused without Overwrite.
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: full}, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty destination: %v", err)
	}
	// Overwrite replaces only a folder Satchel made (outdir_test.go has the other refusals).
	var conflict *OutputConflictError
	_, err = Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: full, Overwrite: true}, nil)
	if !errors.As(err, &conflict) || conflict.Conflict != ConflictNotPackage {
		t.Fatalf("overwrite of a folder Satchel did not make: %v", err)
	}
	pkg := filepath.Join(dir, "pkg")
	if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: pkg}, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pkg, "x"), nil, 0o644)
	if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: pkg, Overwrite: true}, nil); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pkg, "x")); err == nil {
		t.Fatal("overwrite kept the old file")
	}
}

func TestSegmentsStartAtSyncSamples(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_360p.mp4"}, OutDir: out, Formats: []Format{FormatDASH}, Schemes: []drm.Scheme{drm.SchemeCENC}, SegmentDuration: 3 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// GOP 2 s, target 3 s: cuts at the sync nearest 3 s → 2 or 4; then the rest.
	var r manifest.Rendition
	for _, x := range res.Renditions {
		if x.Kind == "video" {
			r = x
		}
	}
	var total uint64
	for _, s := range r.Segments {
		total += s.Duration
		if s.Start%(2*uint64(r.Timescale)) != 0 {
			t.Errorf("segment %d starts at %d, not on a GOP boundary", s.Number, s.Start)
		}
	}
	if d := time.Duration(float64(total) / float64(r.Timescale) * float64(time.Second)); d < 5900*time.Millisecond || d > 6100*time.Millisecond {
		t.Errorf("segments cover %s, want 6s", d)
	}
}

func BenchmarkPackage720p(b *testing.B) {
	in := testMedia + "ladder_720p.mp4"
	st, _ := os.Stat(in)
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "pkg")
		if _, err := Package(context.Background(), Config{Inputs: []string{in}, OutDir: out, Schemes: []drm.Scheme{drm.SchemeCENC}, Formats: []Format{FormatDASH}, Systems: []drm.System{drm.Widevine, drm.PlayReady}}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestClearLead(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out, SegmentDuration: 2 * time.Second,
		ClearLead: 2 * time.Second, Formats: []Format{FormatDASH, FormatMP4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"cenc", "cbcs"} {
		dir := filepath.Join(out, scheme, "240p")
		init := decodeFile(t, filepath.Join(dir, "init.mp4")).Init
		segs, _ := filepath.Glob(filepath.Join(dir, "seg_*.m4s"))
		var frags []*mp4.Fragment
		for _, s := range segs {
			for _, seg := range decodeFile(t, s).Segments {
				frags = append(frags, seg.Fragments...)
			}
		}
		if !cenc.IsClear(frags[0].Moof.Traf) || cenc.IsClear(frags[1].Moof.Traf) {
			t.Fatalf("%s: clear lead marks: first %v second %v", scheme, cenc.IsClear(frags[0].Moof.Traf), cenc.IsClear(frags[1].Moof.Traf))
		}
		src := sourceSamples(t, testMedia+"ladder_240p.mp4", "video")
		// The clear fragment carries the source bytes as they are.
		fs, _ := frags[0].GetFullSamples(nil)
		if !bytes.Equal(fs[0].Data, src[0]) {
			t.Fatalf("%s: clear-lead sample differs from the source", scheme)
		}
		got := decryptedSamples(t, init, frags, res.Keys)
		compareSamples(t, scheme+" clear lead", got[1], src)
	}
	if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: filepath.Join(t.TempDir(), "x"), ClearLead: -time.Second}, nil); err == nil {
		t.Fatal("negative clear lead accepted")
	}
}

// TestOtherCodecs packages AV1 video and AC-3 / E-AC-3 audio (made with ffmpeg on the fly) and
// checks the round trip for both schemes.
func TestOtherCodecs(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required (make test installs it)")
	}
	dir := t.TempDir()
	encoders, _ := exec.Command("ffmpeg", "-hide_banner", "-encoders").Output()
	cases := []struct {
		name, encoder string
		args          []string
		kind          string
	}{
		{"ac3.mp4", "ac3", []string{"-i", testMedia + "ladder_240p.mp4", "-c:v", "copy", "-c:a", "ac3", "-b:a", "192k"}, "audio"},
		{"eac3.mp4", "eac3", []string{"-i", testMedia + "ladder_240p.mp4", "-c:v", "copy", "-c:a", "eac3", "-b:a", "192k"}, "audio"},
		{"av1.mp4", "libsvtav1", []string{"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=4", "-c:v", "libsvtav1", "-preset", "12", "-g", "48", "-pix_fmt", "yuv420p"}, "video"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Contains(encoders, []byte(" "+c.encoder+" ")) {
				t.Skipf("this ffmpeg has no %s encoder", c.encoder)
			}
			in := filepath.Join(dir, c.name)
			args := append([]string{"-v", "error", "-y"}, c.args...)
			if out, err := exec.Command("ffmpeg", append(args, in)...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			out := filepath.Join(dir, "out-"+c.name)
			res, err := Package(context.Background(), Config{Inputs: []string{in}, OutDir: out, SegmentDuration: 2 * time.Second, Formats: []Format{FormatDASH}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			id := "audio"
			if c.kind == "video" {
				id = res.Renditions[0].ID
			}
			for _, scheme := range []string{"cenc", "cbcs"} {
				d := filepath.Join(out, scheme, id)
				init := decodeFile(t, filepath.Join(d, "init.mp4")).Init
				segs, _ := filepath.Glob(filepath.Join(d, "seg_*.m4s"))
				var frags []*mp4.Fragment
				for _, s := range segs {
					for _, seg := range decodeFile(t, s).Segments {
						frags = append(frags, seg.Fragments...)
					}
				}
				got := decryptedSamples(t, init, frags, res.Keys)
				compareSamples(t, c.name+" "+scheme, got[1], sourceSamples(t, in, c.kind))
			}
		})
	}
}
