package manifest

import (
	"bytes"
	"strings"
	"testing"
)

// trickPresentation is testPresentation with I-frame ranges and trick segments on its video.
func trickPresentation(t testing.TB) *Presentation {
	p := testPresentation(t, "cbcs")
	for i := range p.Renditions {
		r := &p.Renditions[i]
		if r.Kind != "video" {
			continue
		}
		for j := range r.Segments {
			s := &r.Segments[j]
			s.IFrame = &IFrame{Offset: 24, Size: 500 + int64(j), Time: s.Start + 512}
			r.Trick = append(r.Trick, Segment{Number: s.Number, Start: s.Start, Duration: s.Duration,
				Path: TrickDir(r.Dir) + s.Path[len(r.Dir):], Size: 600})
		}
	}
	return p
}

func TestReadIFrameStreamsAndTrickMode(t *testing.T) {
	p := trickPresentation(t)
	var b bytes.Buffer
	if err := WriteHLSMaster(&b, p, func(r Rendition) string { return r.Dir + "/" + FileHLSMedia }); err != nil {
		t.Fatal(err)
	}
	pl, err := ReadHLS(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.IFrameStreams) != 3 || pl.IFrameStreams[0].URI != "cbcs/240p/iframes.m3u8" || pl.IFrameStreams[0].Bandwidth == 0 ||
		pl.IFrameStreams[0].Resolution != "426x240" || pl.IFrameStreams[0].Codecs != "avc1.64001e" {
		t.Fatalf("I-frame streams: %+v", pl.IFrameStreams)
	}
	b.Reset()
	if err := WriteHLSIFrames(&b, p, p.Renditions[0]); err != nil {
		t.Fatal(err)
	}
	ip, err := ReadIFramePlaylist(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !ip.IFramesOnly || !ip.Ended || ip.MapURI != "init.mp4" || len(ip.Entries) != 2 || len(ip.Keys) == 0 {
		t.Fatalf("I-frame playlist: %+v", ip)
	}
	if e := ip.Entries[1]; !e.Ranged || e.Offset != 24 || e.Length != 501 || e.URI != "seg_00002.m4s" {
		t.Fatalf("entry 2: %+v", e)
	}
	b.Reset()
	if err := WriteMPD(&b, p); err != nil {
		t.Fatal(err)
	}
	info, err := ReadMPD(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var trick *AdaptationSetInfo
	for i, as := range info.AdaptationSets {
		if _, ok := as.TrickModeOf(); ok {
			trick = &info.AdaptationSets[i]
		}
	}
	if trick == nil {
		t.Fatal("no trick-mode AdaptationSet read back")
	}
	if main, _ := trick.TrickModeOf(); main != info.AdaptationSets[0].ID || trick.MaxPlayoutRate == "" || trick.CodingDependency != "false" {
		t.Fatalf("trick-mode set %+v (main set id %q)", trick, info.AdaptationSets[0].ID)
	}
	if r := info.Representations[0]; r.FrameRate != "24" {
		t.Fatalf("frameRate of %s: %q", r.ID, r.FrameRate)
	}
}

func TestReadIFramePlaylistRanges(t *testing.T) {
	cases := []struct {
		name, text string
		want       []IFrameEntry
		err        string
	}{
		{"explicit offsets", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-MAP:URI=\"i.mp4\"\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:100@84\na.m4s\n#EXTINF:2,\n#EXT-X-BYTERANGE:90@0\nb.m4s\n#EXT-X-ENDLIST\n",
			[]IFrameEntry{{"a.m4s", 84, 100, true, 2}, {"b.m4s", 0, 90, true, 2}}, ""},
		{"implicit offset continues the same file", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-I-FRAMES-ONLY\n" +
			"#EXTINF:1,\n#EXT-X-BYTERANGE:100@10\nall.mp4\n#EXTINF:1,\n#EXT-X-BYTERANGE:50\nall.mp4\n#EXT-X-ENDLIST\n",
			[]IFrameEntry{{"all.mp4", 10, 100, true, 1}, {"all.mp4", 110, 50, true, 1}}, ""},
		{"implicit offset after another file", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-I-FRAMES-ONLY\n" +
			"#EXTINF:1,\n#EXT-X-BYTERANGE:100@10\na.mp4\n#EXTINF:1,\n#EXT-X-BYTERANGE:50\nb.mp4\n", nil, "no offset"},
		{"a multivariant playlist", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", nil, "not a media playlist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ip, err := ReadIFramePlaylist(strings.NewReader(c.text))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ip.Entries) != len(c.want) {
				t.Fatalf("entries %+v", ip.Entries)
			}
			for i, e := range ip.Entries {
				if e != c.want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, e, c.want[i])
				}
			}
		})
	}
}

func FuzzReadIFramePlaylist(f *testing.F) {
	p := trickPresentation(f)
	var b bytes.Buffer
	_ = WriteHLSIFrames(&b, p, p.Renditions[0])
	f.Add(b.Bytes())
	f.Add([]byte("#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXTINF:1,\n#EXT-X-BYTERANGE:100@10\nall.mp4\n#EXTINF:1,\n#EXT-X-BYTERANGE:50\nall.mp4\n"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ReadIFramePlaylist(bytes.NewReader(data)) })
}
