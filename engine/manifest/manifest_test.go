package manifest

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/internal/golden"
)

func key(t testing.TB, tt, kid, k string) drm.ContentKey {
	id, err := drm.ParseKID(kid)
	if err != nil {
		t.Fatal(err)
	}
	ck := drm.ContentKey{TrackType: tt, KID: id}
	b, _ := hex.DecodeString(k)
	copy(ck.Key[:], b)
	return ck
}

// testPresentation is a fixed two-key ladder (SD 240p/360p, HD 720p) plus audio.
func testPresentation(t testing.TB, scheme string) *Presentation {
	sd := key(t, "SD", "8ba94ade-6eb9-449d-b44f-a5beefaf43b0", "dbfd6922c321c4bb486f4a1c44097ed6")
	hd := key(t, "HD", "10203040-5060-7080-90a0-b0c0d0e0f001", "00112233445566778899aabbccddeeff")
	au := key(t, "AUDIO", "6f651ae1-dbe4-4434-bcb4-690d1564c41c", "88da852ae4fa2e1e36aeb2d5c94997b1")
	segs := func(dir string, ts uint64, durs ...uint64) []Segment {
		var out []Segment
		var t uint64
		for i, d := range durs {
			out = append(out, Segment{Number: i + 1, Start: t, Duration: d * ts / 1000, Path: dir + "/seg_0000" + string(rune('1'+i)) + ".m4s", Size: 1000})
			t += d * ts / 1000
		}
		return out
	}
	rend := func(id string, h int, k drm.ContentKey, bw int64) Rendition {
		dir := scheme + "/" + id
		return Rendition{ID: id, Kind: "video", Codecs: "avc1.64001e", Bandwidth: bw, AvgBandwidth: bw * 9 / 10, Width: h * 16 / 9, Height: h,
			FrameRate: "24", Timescale: 12288, Dir: dir, InitPath: dir + "/init.mp4", Segments: segs(dir, 12288, 4000, 2000), KID: k.KID}
	}
	audio := Rendition{ID: "audio", Kind: "audio", Codecs: "mp4a.40.2", Language: "en", Bandwidth: 70000, AvgBandwidth: 65000, SampleRate: 48000, Channels: 2,
		Timescale: 48000, Dir: scheme + "/audio", InitPath: scheme + "/audio/init.mp4", Segments: segs(scheme+"/audio", 48000, 4000, 2000), KID: au.KID}
	return &Presentation{Duration: 6 * time.Second, Scheme: drm.Scheme(scheme), SegmentDuration: 4 * time.Second,
		Renditions: []Rendition{rend("240p", 240, sd, 300000), rend("360p", 360, sd, 600000), rend("720p", 720, hd, 1500000), audio},
		Signalling: drm.Signalling{Scheme: drm.Scheme(scheme), Keys: []drm.ContentKey{au, sd, hd}, Systems: drm.AllSystems,
			ClearKeyLAURL: "http://127.0.0.1:8787/clearkey", PlayReadyLAURL: "https://pr.example.com/rm.asmx", FairPlayKeyURI: "skd://satchel"}}
}

func TestMPDGoldenAndReadBack(t *testing.T) {
	for _, scheme := range []string{"cenc", "cbcs"} {
		p := testPresentation(t, scheme)
		var b bytes.Buffer
		if err := WriteMPD(&b, p); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "manifest_"+scheme+".mpd", b.Bytes())
		info, err := ReadMPD(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Representations) != 4 || info.Duration != 6*time.Second {
			t.Fatalf("read back %d reps, %s", len(info.Representations), info.Duration)
		}
		for i, r := range info.Representations {
			want := p.Renditions[i]
			if r.ID != want.ID || r.InitURL != want.InitPath || len(r.SegmentURLs) != 2 || r.SegmentURLs[1] != want.Segments[1].Path {
				t.Errorf("rep %d: %+v", i, r)
			}
			var kids []string
			for _, pr := range r.Protection {
				if k, ok := pr.KID(); ok {
					kids = append(kids, k.String())
				}
			}
			// The video set has two keys, so protection is per Representation.
			if len(kids) != 1 || kids[0] != want.KID.String() {
				t.Errorf("rep %s default KIDs %v, want %s", r.ID, kids, want.KID)
			}
			var systems []string
			for _, pr := range r.Protection {
				systems = append(systems, pr.SchemeIDURI)
				if strings.Contains(pr.SchemeIDURI, drm.PlayReadySystemID) {
					h, err := drm.ParsePlayReadyObject(pr.PRO)
					if err != nil || h.KIDs[0] != want.KID {
						t.Errorf("rep %s PRO: %v %+v", r.ID, err, h)
					}
				}
				if strings.Contains(pr.SchemeIDURI, drm.ClearKeyDASHSchemeID) && pr.LAURL != "http://127.0.0.1:8787/clearkey" {
					t.Errorf("clearkey laurl %q", pr.LAURL)
				}
			}
			if len(systems) != 5 {
				t.Errorf("rep %s: %d ContentProtection elements (%v), want 5", r.ID, len(systems), systems)
			}
		}
	}
}

func TestHLSGoldenAndReadBack(t *testing.T) {
	p := testPresentation(t, "cbcs")
	var master bytes.Buffer
	if err := WriteHLSMaster(&master, p, func(r Rendition) string { return r.Dir + "/playlist.m3u8" }); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "master.m3u8", master.Bytes())
	pl, err := ReadHLS(bytes.NewReader(master.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !pl.Master || len(pl.Variants) != 3 || len(pl.Media) != 1 || len(pl.SessionKeys) != 12 {
		t.Fatalf("master: %d variants, %d media, %d session keys", len(pl.Variants), len(pl.Media), len(pl.SessionKeys))
	}
	if pl.Variants[2].Codecs != "avc1.64001e,mp4a.40.2" || pl.Variants[2].Resolution != "1280x720" || pl.Variants[2].Bandwidth != 1570000 {
		t.Errorf("variant %+v", pl.Variants[2])
	}
	var media bytes.Buffer
	if err := WriteHLSMedia(&media, p, p.Renditions[2]); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "media_720p.m3u8", media.Bytes())
	ml, err := ReadHLS(bytes.NewReader(media.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if ml.Master || ml.MapURI != "init.mp4" || len(ml.Segments) != 2 || !ml.Ended || ml.TargetDuration != 4 || ml.Durations[1] != 2 {
		t.Fatalf("media playlist %+v", ml)
	}
	var fp *KeyTag
	for i, k := range ml.Keys {
		if k.KeyFormat == drm.KeyFormatFairPlay {
			fp = &ml.Keys[i]
		}
	}
	if fp == nil || fp.Method != "SAMPLE-AES" {
		t.Fatalf("no FairPlay EXT-X-KEY: %+v", ml.Keys)
	}
	if kid, err := drm.ParseFairPlaySKD(fp.URI); err != nil || kid != p.Renditions[2].KID {
		t.Fatalf("skd %s → %s %v", fp.URI, kid, err)
	}
}

func TestReadForeignManifests(t *testing.T) {
	mpd := `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT0H0M10.0S">
 <BaseURL>https://cdn.example.com/v/</BaseURL>
 <Period><AdaptationSet mimeType="video/mp4">
  <SegmentTemplate timescale="1000" duration="4000" initialization="$RepresentationID$/i.mp4" media="$RepresentationID$/$Number$.m4s"/>
  <Representation id="a" bandwidth="1"/>
 </AdaptationSet>
 <AdaptationSet mimeType="audio/mp4"><Representation id="s" bandwidth="1"><BaseURL>single.mp4</BaseURL><SegmentBase indexRange="0-99"/></Representation></AdaptationSet>
 </Period></MPD>`
	info, err := ReadMPD(strings.NewReader(mpd))
	if err != nil {
		t.Fatal(err)
	}
	r := info.Representations[0]
	if r.ContentType != "video" || r.InitURL != "https://cdn.example.com/v/a/i.mp4" || len(r.SegmentURLs) != 3 || r.SegmentURLs[2] != "https://cdn.example.com/v/a/3.m4s" {
		t.Fatalf("template rep %+v", r)
	}
	if s := info.Representations[1]; !s.SingleFile || s.InitURL != "https://cdn.example.com/v/single.mp4" {
		t.Fatalf("single-file rep %+v", s)
	}
	for _, bad := range []string{"", "<html/>", `<MPD type="dynamic"><Period/></MPD>`, `<MPD><Period><AdaptationSet><Representation id="x"/></AdaptationSet></Period></MPD>`} {
		if _, err := ReadMPD(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadMPD(%q) succeeded", bad)
		}
	}
	for _, bad := range []string{"", "hello", "#EXTM3U\nseg.ts\n", "#EXTM3U\n#EXTINF:x,\na.ts"} {
		if _, err := ReadHLS(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadHLS(%q) succeeded", bad)
		}
	}
}

func FuzzReadMPD(f *testing.F) {
	var b bytes.Buffer
	WriteMPD(&b, testPresentation(f, "cenc"))
	f.Add(b.Bytes())
	f.Add([]byte(`<MPD type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet><SegmentTemplate timescale="1" duration="1" media="$Number%05d$"/><Representation id="a"/></AdaptationSet></Period></MPD>`))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ReadMPD(bytes.NewReader(data)) })
}

func FuzzReadHLS(f *testing.F) {
	p := testPresentation(f, "cbcs")
	var b bytes.Buffer
	WriteHLSMaster(&b, p, func(r Rendition) string { return r.Dir + "/p.m3u8" })
	f.Add(b.Bytes())
	b.Reset()
	WriteHLSMedia(&b, p, p.Renditions[0])
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ReadHLS(bytes.NewReader(data)) })
}
