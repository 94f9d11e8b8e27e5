package publish

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"satchel/engine/manifest"
)

// fakeSigner signs every name in files as https://cdn.example/NAME?tok=NAME.
func fakeSigner(files ...string) signer {
	set := map[string]bool{}
	for _, f := range files {
		set[f] = true
	}
	return func(rel string) (string, bool) {
		if !set[rel] {
			return "", false
		}
		return "https://cdn.example/" + rel + "?tok=" + rel + "&sv=1", true
	}
}

// TestSignMPD: the signed copy says everything the original says (representations, DRM
// signalling, timing), with every segment an absolute URL carrying its own token.
func TestSignMPD(t *testing.T) {
	src, err := os.ReadFile("../../engine/manifest/testdata/manifest_cenc.mpd")
	if err != nil {
		t.Fatal(err)
	}
	orig, err := manifest.ReadMPD(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range orig.Representations {
		files = append(files, r.InitURL)
		files = append(files, r.SegmentURLs...)
	}
	signed, err := signMPD("manifest.mpd", src, fakeSigner(files...))
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.ReadMPD(bytes.NewReader(signed))
	if err != nil {
		t.Fatalf("the signed MPD does not read: %v\n%s", err, signed)
	}
	if got.Duration != orig.Duration || len(got.Representations) != len(orig.Representations) {
		t.Fatalf("signed: %v, %d representations; original %v, %d", got.Duration, len(got.Representations),
			orig.Duration, len(orig.Representations))
	}
	for i, r := range got.Representations {
		o := orig.Representations[i]
		if r.ID != o.ID || r.Codecs != o.Codecs || len(r.Protection) != len(o.Protection) {
			t.Fatalf("representation %d: %+v, want %+v", i, r, o)
		}
		for j, p := range r.Protection {
			op := o.Protection[j]
			if p.SchemeIDURI != op.SchemeIDURI || p.DefaultKID != op.DefaultKID || !bytes.Equal(p.PSSH, op.PSSH) ||
				!bytes.Equal(p.PRO, op.PRO) || p.LAURL != op.LAURL {
				t.Fatalf("representation %s protection %d changed: %+v, want %+v", r.ID, j, p, op)
			}
		}
		if r.InitURL != "https://cdn.example/"+o.InitURL+"?tok="+o.InitURL+"&sv=1" {
			t.Fatalf("init %q", r.InitURL)
		}
		if len(r.SegmentURLs) != len(o.SegmentURLs) {
			t.Fatalf("%s: %d segments, want %d", r.ID, len(r.SegmentURLs), len(o.SegmentURLs))
		}
		for k, u := range r.SegmentURLs {
			if u != "https://cdn.example/"+o.SegmentURLs[k]+"?tok="+o.SegmentURLs[k]+"&sv=1" {
				t.Fatalf("segment %d: %q", k, u)
			}
		}
	}
	if !bytes.Contains(signed, []byte("<SegmentTimeline>")) || bytes.Contains(signed, []byte("SegmentTemplate")) {
		t.Fatal("the timeline was not carried into the SegmentList")
	}
	// A reference to a file that is not published (a withheld or missing file) is an error.
	var re *refError
	if _, err := signMPD("manifest.mpd", src, fakeSigner(files[1:]...)); !errors.As(err, &re) {
		t.Fatalf("unpublished init: %v", err)
	}
}

func TestSignHLS(t *testing.T) {
	src, err := os.ReadFile("../../engine/manifest/testdata/media_720p.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	rel := "cbcs/720p/playlist.m3u8"
	signed, err := signHLS(rel, src, fakeSigner("cbcs/720p/init.mp4", "cbcs/720p/seg_00001.m4s", "cbcs/720p/seg_00002.m4s"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := manifest.ReadHLS(bytes.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	if p.MapURI != "https://cdn.example/cbcs/720p/init.mp4?tok=cbcs/720p/init.mp4&sv=1" || len(p.Segments) != 2 ||
		!strings.HasPrefix(p.Segments[1], "https://cdn.example/cbcs/720p/seg_00002.m4s?tok=") {
		t.Fatalf("signed playlist:\n%s", signed)
	}
	// Key URIs (skd://, data:) are left as they are.
	if !bytes.Contains(signed, []byte(`URI="skd://satchel/`)) || !bytes.Contains(signed, []byte(`URI="data:text/plain`)) {
		t.Fatalf("key URIs changed:\n%s", signed)
	}
	master, _ := os.ReadFile("../../engine/manifest/testdata/master.m3u8")
	kids := hlsChildren("master.m3u8", master)
	if len(kids) != 4 || kids[0] != "cbcs/audio/playlist.m3u8" {
		t.Fatalf("media playlists of the master: %v", kids)
	}
	if _, err := signHLS("master.m3u8", master, fakeSigner("cbcs/240p/playlist.m3u8")); err == nil {
		t.Fatal("a master referencing unpublished playlists was signed")
	}
	if _, ok := resolveRel("show1/master.m3u8", "../show2/keys.cpix.xml"); !ok {
		t.Fatal("a sibling title's file is inside the package root")
	}
	if _, ok := resolveRel("master.m3u8", "../../etc/passwd"); ok {
		t.Fatal("a path outside the package resolved")
	}
}

func FuzzSignMPD(f *testing.F) {
	src, _ := os.ReadFile("../../engine/manifest/testdata/manifest_cbcs.mpd")
	f.Add(src)
	f.Add([]byte(`<MPD type="static" mediaPresentationDuration="PT2S"><Period><AdaptationSet>` +
		`<SegmentTemplate media="s$Number$.m4s" initialization="i.mp4" duration="1" timescale="1"/>` +
		`<Representation id="a"/></AdaptationSet></Period></MPD>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		all := func(rel string) (string, bool) { return "https://x/" + rel + "?t=1", true }
		out, err := signMPD("m.mpd", b, all)
		if err != nil {
			return
		}
		if _, err := manifest.ReadMPD(bytes.NewReader(out)); err != nil {
			t.Fatalf("signed copy of a readable MPD does not read: %v\n%s", err, out)
		}
	})
}

func FuzzSignHLS(f *testing.F) {
	for _, n := range []string{"master.m3u8", "media_720p.m3u8"} {
		src, _ := os.ReadFile("../../engine/manifest/testdata/" + n)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		all := func(rel string) (string, bool) { return "https://x/" + rel + "?t=1", true }
		_, _ = signHLS("a/master.m3u8", b, all)
		_ = hlsChildren("a/master.m3u8", b)
	})
}
