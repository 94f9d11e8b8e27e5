package manifest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/media"
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

// multiPresentation is a title with two audio languages (AAC 5.1 English default, AAC stereo
// French), an E-AC-3 German dub in its own HLS group, commentary, and English subtitles
// (regular, forced and SDH) in the clear.
func multiPresentation(t testing.TB) *Presentation {
	p := testPresentation(t, "cenc")
	video := p.Renditions[0]
	au := p.Renditions[3]
	audio := func(id, codecs, lang, name string, ch int, role media.Role, def bool) Rendition {
		r := au
		r.ID, r.Codecs, r.Language, r.Name, r.Channels, r.Role, r.Default = id, codecs, lang, name, ch, role, def
		r.Dir, r.InitPath = "cenc/"+id, "cenc/"+id+"/init.mp4"
		if codecs == "ec-3" {
			r.ChannelMap = 0xF801
		}
		return r
	}
	text := func(id, name string, forced, sdh bool) Rendition {
		dir := "text/" + id
		var vtt []Segment
		for _, s := range au.Segments {
			vtt = append(vtt, Segment{Number: s.Number, Start: s.Start / 48, Duration: s.Duration / 48, Path: dir + "/" + TextSegmentName(s.Number)})
		}
		return Rendition{ID: id, Kind: media.Text, Codecs: "wvtt", Language: "en", Name: name, Forced: forced, SDH: sdh, Timescale: 1000,
			Bandwidth: 500, Dir: dir, InitPath: dir + "/init.mp4", Segments: vtt, WebVTT: vtt}
	}
	p.Renditions = []Rendition{video,
		audio("audio_en", "mp4a.40.2", "en", "English", 6, media.RoleMain, true),
		audio("audio_fr", "mp4a.40.2", "fr", "Français", 2, media.RoleDub, false),
		audio("audio_en_2", "mp4a.40.2", "en", "English commentary", 1, media.RoleCommentary, false),
		audio("audio_de", "ec-3", "de", "Deutsch", 6, media.RoleDub, false),
		text("text_en", "English", false, false), text("text_en_forced", "English forced", true, false),
		text("text_en_sdh", "English SDH", false, true)}
	return p
}

func TestMultiTrackManifests(t *testing.T) {
	p := multiPresentation(t)
	var mpd bytes.Buffer
	if err := WriteMPD(&mpd, p); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "manifest_multi.mpd", mpd.Bytes())
	info, err := ReadMPD(bytes.NewReader(mpd.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, s := range info.AdaptationSets {
		sets = append(sets, fmt.Sprintf("%s/%s/%s/%v/%d", s.ContentType, s.Lang, s.Label, s.Roles, len(s.Protection)))
	}
	want := []string{"video///[]/5", "audio/en/English/[main]/5", "audio/fr/Français/[dub]/5", "audio/en/English commentary/[commentary]/5",
		"audio/de/Deutsch/[dub]/5", "text/en/English/[subtitle]/0", "text/en/English forced/[forced-subtitle]/0", "text/en/English SDH/[caption]/0"}
	if strings.Join(sets, " ") != strings.Join(want, " ") {
		t.Fatalf("adaptation sets\n got %v\nwant %v", sets, want)
	}
	if r := info.Representations[4]; r.AudioChannels != "F801" || !strings.Contains(r.AudioChannelScheme, "dolby") {
		t.Errorf("E-AC-3 channels %+v", r)
	}
	var master bytes.Buffer
	if err := WriteHLSMaster(&master, p, func(r Rendition) string { return r.Dir + "/playlist.m3u8" }); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "master_multi.m3u8", master.Bytes())
	pl, err := ReadHLS(bytes.NewReader(master.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Variants) != 2 || pl.Variants[0].Audio != "audio-mp4a.40.2" || pl.Variants[1].Audio != "audio-ec-3" ||
		pl.Variants[1].Codecs != "avc1.64001e,ec-3" || pl.Variants[0].Subtitles != "subs" {
		t.Fatalf("variants %+v", pl.Variants)
	}
	defaults := map[string]int{}
	for _, m := range pl.Media {
		if m.Default {
			defaults[m.GroupID]++
		}
		if m.Name == "English commentary" && m.Autoselect {
			t.Error("commentary is auto-selectable")
		}
		if m.Name == "English forced" && !m.Forced || m.Name == "English SDH" && !strings.Contains(m.Characteristics, "transcribes-spoken-dialog") {
			t.Errorf("subtitle flags %+v", m)
		}
	}
	if defaults["audio-mp4a.40.2"] != 1 || defaults["audio-ec-3"] != 1 || defaults["subs"] != 0 {
		t.Errorf("DEFAULT=YES per group: %v", defaults)
	}
	var media bytes.Buffer
	if err := WriteHLSMedia(&media, p, p.Renditions[5]); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "media_text.m3u8", media.Bytes())
	if ml, err := ReadHLS(bytes.NewReader(media.Bytes())); err != nil || ml.MapURI != "" || len(ml.Keys) != 0 || ml.Segments[0] != "seg_00001.vtt" {
		t.Fatalf("text playlist %+v %v", ml, err)
	}
}
