package manifest

import (
	"bytes"
	"errors"
	"path"
	"strings"
	"testing"

	"satchel/engine/drm"
	"satchel/internal/golden"
)

// smoothPresentation is testPresentation (cenc) under one key with Smooth descriptions: the
// video ladder and the audio at Smooth fragment names beside cenc/manifest.ismc.
func smoothPresentation(t testing.TB) *Presentation {
	p := testPresentation(t, "cenc")
	all := key(t, "ALL", "2f1ecb2d-5b0e-4c4a-9a4e-0f3c1d2e3f40", "00112233445566778899aabbccddeeff")
	p.Signalling.Keys = []drm.ContentKey{all}
	for i := range p.Renditions {
		r := &p.Renditions[i]
		r.KID = all.KID
		st := &SmoothTrack{Stream: "video", Bitrate: r.AvgBandwidth, FourCC: "H264",
			CodecPrivateData: "0000000167640015ACD941B1FE4FFF0280027F1000000300100000030300F162D9600000000168EFBCB0"}
		if r.Kind == "audio" {
			st = &SmoothTrack{Stream: "audio_en", Bitrate: r.AvgBandwidth, FourCC: "AACL", CodecPrivateData: "1190"}
		}
		r.Smooth = st
		for k := range r.Segments {
			s := &r.Segments[k]
			s.Path = path.Join("cenc", SmoothFragmentPath(st.Bitrate, st.Stream, s.Start))
		}
	}
	return p
}

// TestSmoothGoldenAndReadBack writes the Smooth client manifest and the MPD and HLS playlists
// over the same fragments, and reads each back: every reader reaches the same files.
func TestSmoothGoldenAndReadBack(t *testing.T) {
	p := smoothPresentation(t)
	var b bytes.Buffer
	if err := WriteSmooth(&b, p); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "manifest.ismc", b.Bytes())
	info, err := ReadSmooth(bytes.NewReader(b.Bytes()), 100)
	if err != nil {
		t.Fatal(err)
	}
	if info.MajorVersion != "2" || info.MinorVersion != "2" || len(info.Protection) != 1 || len(info.Streams) != 2 {
		t.Fatalf("read back %+v", info)
	}
	pro, err := drm.ParsePlayReadyObject(info.Protection[0].Data)
	if err != nil || len(pro.KIDs) != 1 || pro.KIDs[0] != p.Renditions[0].KID || pro.Version != drm.PlayReadyHeaderV40 {
		t.Fatalf("ProtectionHeader %+v %v", pro, err)
	}
	want := map[string]bool{}
	for _, r := range p.Renditions {
		for _, s := range r.Segments {
			want[s.Path] = true
		}
	}
	got := map[string]bool{}
	for _, s := range info.Streams {
		for _, q := range s.Qualities {
			for _, f := range s.Fragments {
				got["cenc/"+s.FragmentURL(q, f.Start)] = true
			}
		}
	}
	if len(got) != len(want) || len(got) != 4*2 {
		t.Fatalf("Smooth fragments %v, want %v", got, want)
	}
	for u := range got {
		if !want[u] {
			t.Errorf("Smooth fragment %s is no rendition's segment", u)
		}
	}
	b.Reset()
	if err := WriteMPD(&b, p); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "manifest_smooth.mpd", b.Bytes())
	mi, err := ReadMPD(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mi.Representations {
		for _, u := range r.SegmentURLs {
			if !want[u] {
				t.Errorf("MPD representation %s names %s, not a Smooth fragment", r.ID, u)
			}
		}
	}
	b.Reset()
	if err := WriteHLSMedia(&b, p, p.Renditions[0]); err != nil {
		t.Fatal(err)
	}
	if pl, err := ReadHLS(bytes.NewReader(b.Bytes())); err != nil || pl.Segments[0] != "../QualityLevels(270000)/Fragments(video=0)" {
		t.Fatalf("HLS media playlist: %v %v", pl, err)
	}
}

// TestSmoothRefusesTwoKeys checks that a presentation under several keys has no Smooth manifest.
func TestSmoothRefusesTwoKeys(t *testing.T) {
	p := smoothPresentation(t)
	p.Renditions[2].KID = drm.KID{1}
	var ke *SmoothKeyError
	if err := WriteSmooth(&bytes.Buffer{}, p); !errors.As(err, &ke) {
		t.Fatalf("got %v, want a SmoothKeyError", err)
	}
	p = testPresentation(t, "cbcs")
	if err := WriteSmooth(&bytes.Buffer{}, p); err == nil || !strings.Contains(err.Error(), "cenc") {
		t.Fatalf("cbcs: %v", err)
	}
}

// TestReadSmooth reads the c element forms of [MS-SSTR] 2.2.2.6 and rejects broken manifests.
func TestReadSmooth(t *testing.T) {
	const head = `<SmoothStreamingMedia MajorVersion="2" MinorVersion="2" Duration="60"><StreamIndex Type="video" ` +
		`Url="QualityLevels({bitrate})/Fragments(video={start_time})" TimeScale="10"><QualityLevel Index="0" Bitrate="9" ` +
		`FourCC="H264" CodecPrivateData="00000001"/>`
	for name, tc := range map[string]struct {
		chunks string
		want   []SegmentTime
	}{
		"duration coding": {`<c d="20"/><c d="20"/><c d="20"/>`, []SegmentTime{{0, 20}, {20, 20}, {40, 20}}},
		"start coding":    {`<c t="5"/><c t="25"/><c t="45" d="15"/>`, []SegmentTime{{5, 20}, {25, 20}, {45, 15}}},
		"repeat":          {`<c t="0" d="20" r="2"/><c d="10"/>`, []SegmentTime{{0, 20}, {20, 20}, {40, 10}}},
	} {
		t.Run(name, func(t *testing.T) {
			info, err := ReadSmooth(strings.NewReader(head+tc.chunks+`</StreamIndex></SmoothStreamingMedia>`), 10)
			if err != nil {
				t.Fatal(err)
			}
			s := info.Streams[0]
			if len(s.Fragments) != len(tc.want) {
				t.Fatalf("fragments %v, want %v", s.Fragments, tc.want)
			}
			for i := range tc.want {
				if s.Fragments[i] != tc.want[i] {
					t.Fatalf("fragments %v, want %v", s.Fragments, tc.want)
				}
			}
			if u := s.FragmentURL(s.Qualities[0], s.Fragments[1].Start); u != "QualityLevels(9)/Fragments(video=20)" &&
				u != "QualityLevels(9)/Fragments(video=25)" {
				t.Errorf("FragmentURL = %s", u)
			}
		})
	}
	for name, bad := range map[string]string{
		"not xml":        `<SmoothStreamingMedia`,
		"no t or d":      head + `<c/></StreamIndex></SmoothStreamingMedia>`,
		"going back":     head + `<c t="20"/><c t="10"/></StreamIndex></SmoothStreamingMedia>`,
		"bad hex":        strings.Replace(head, `"00000001"`, `"0G"`, 1) + `</StreamIndex></SmoothStreamingMedia>`,
		"bad header":     `<SmoothStreamingMedia><Protection><ProtectionHeader SystemID="x">!!</ProtectionHeader></Protection></SmoothStreamingMedia>`,
		"zero timescale": `<SmoothStreamingMedia TimeScale="0"/>`,
	} {
		if _, err := ReadSmooth(strings.NewReader(bad), 10); err == nil {
			t.Errorf("%s: ReadSmooth succeeded", name)
		}
	}
	var le *LimitError
	_, err := ReadSmooth(strings.NewReader(head+`<c d="1" r="1000000000"/></StreamIndex></SmoothStreamingMedia>`), 10)
	if !errors.As(err, &le) {
		t.Errorf("a huge repeat: %v, want a LimitError", err)
	}
}

func FuzzReadSmooth(f *testing.F) {
	var b bytes.Buffer
	WriteSmooth(&b, smoothPresentation(f))
	f.Add(b.Bytes())
	f.Add([]byte(`<SmoothStreamingMedia><StreamIndex Url="{bitrate}"><QualityLevel Bitrate="1"/><c t="1"/><c d="2" r="3"/></StreamIndex></SmoothStreamingMedia>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ReadSmooth(bytes.NewReader(data), 1000)
		if err != nil {
			return
		}
		for _, s := range info.Streams {
			for _, q := range s.Qualities {
				for _, fr := range s.Fragments {
					_ = s.FragmentURL(q, fr.Start)
				}
			}
		}
	})
}
