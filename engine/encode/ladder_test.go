package encode

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseBitrate(t *testing.T) {
	cases := []struct {
		in   string
		want Bitrate
		ok   bool
	}{
		{"6000k", 6_000_000, true},
		{"6M", 6_000_000, true},
		{"2.5Mbps", 2_500_000, true},
		{"128 kb/s", 128_000, true},
		{"800000", 800_000, true},
		{" 96K ", 96_000, true},
		{"", 0, false},
		{"fast", 0, false},
		{"-5k", 0, false},
		{"1e400", 0, false},
		{"NaN", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseBitrate(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseBitrate(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
			}
		})
	}
	if s := Bitrate(3_400_000).String(); s != "3400k" {
		t.Errorf("String = %q", s)
	}
	if s := Bitrate(1500).String(); s != "1500" {
		t.Errorf("String = %q", s)
	}
}

// TestValidate checks that each bad value is refused with a *LadderError naming the rung and
// the field, and that a good ladder passes.
func TestValidate(t *testing.T) {
	good := Rung{Height: 720, VideoBitrate: 3_400_000}
	cases := []struct {
		name  string
		l     Ladder
		field string // "" for a ladder-wide error
		rung  int
	}{
		{"no rungs", Ladder{}, "", 0},
		{"too many", Ladder{Rungs: make([]Rung, MaxRungs+1)}, "", 0},
		{"odd height", Ladder{Rungs: []Rung{good, {Height: 721, VideoBitrate: 1_000_000}}}, "height", 2},
		{"zero height", Ladder{Rungs: []Rung{{VideoBitrate: 1_000_000}}}, "height", 1},
		{"huge width", Ladder{Rungs: []Rung{{Width: 10000, Height: 720, VideoBitrate: 1_000_000}}}, "width", 1},
		{"kbps typed as bps", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 3400}}}, "video bit rate", 1},
		{"absurd bitrate", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 1e9}}}, "video bit rate", 1},
		{"unknown codec", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 1e6, Codec: "vp9"}}}, "codec", 1},
		{"profile of another codec", one(Rung{Height: 720, VideoBitrate: 1e6, Codec: HEVC, Profile: ProfileHigh}),
			"profile", 1},
		{"audio bitrate", one(Rung{Height: 720, VideoBitrate: 1e6, AudioBitrate: 2_000_000}), "audio bit rate", 1},
		{"channels", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 1e6, AudioChannels: 3}}}, "audio channels", 1},
		{"bad name", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 1e6, Name: "../x"}}}, "name", 1},
		{"duplicate name", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 1e6, Name: "a"},
			{Height: 360, VideoBitrate: 5e5, Name: "A"}}}, "name", 2},
		{"duplicate rung", Ladder{Rungs: []Rung{good, good}}, "rung", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.l.Validate()
			var le *LadderError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LadderError", err)
			}
			if le.Field != c.field || le.Rung != c.rung {
				t.Errorf("error %q names rung %d field %q, want rung %d field %q", err, le.Rung, le.Field, c.rung, c.field)
			}
		})
	}
	ok := Ladder{Rungs: []Rung{good, {Width: 640, Height: 360, VideoBitrate: 650_000, Codec: AV1, Profile: ProfileMain10,
		AudioBitrate: 96_000, AudioChannels: 6}, {Height: 240, VideoBitrate: 400_000, NoAudio: true, AudioChannels: 3}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("a valid ladder: %v", err)
	}
}

func TestParseLadderText(t *testing.T) {
	src := `# my ladder
ladder Studio HD
1920x1080 6000k
720p      3400k codec=hevc profile=main10 # a comment
540p      1.5M  audio=96k channels=1 name=small
360p      650k  audio=none
`
	l, err := ParseLadder([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Ladder{Name: "Studio HD", Rungs: []Rung{
		{Width: 1920, Height: 1080, VideoBitrate: 6_000_000},
		{Height: 720, VideoBitrate: 3_400_000, Codec: HEVC, Profile: ProfileMain10},
		{Height: 540, VideoBitrate: 1_500_000, AudioBitrate: 96_000, AudioChannels: 1, Name: "small"},
		{Height: 360, VideoBitrate: 650_000, NoAudio: true},
	}}
	if !ladderEqual(l, want) {
		t.Fatalf("got %+v\nwant %+v", l, want)
	}
	var buf bytes.Buffer
	if err := l.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	again, err := ParseLadder(buf.Bytes())
	if err != nil || !ladderEqual(again, want) {
		t.Errorf("WriteText did not round-trip:\n%s\n%+v %v", buf.String(), again, err)
	}
}

func TestParseLadderJSON(t *testing.T) {
	src := `{"name": "j", "rungs": [
		{"width": 1280, "height": 720, "video_bitrate": "3400k", "codec": "x265"},
		{"height": 360, "video_bitrate": 650000, "audio_bitrate": "64k", "audio_channels": 2}]}`
	l, err := ParseLadder([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Ladder{Name: "j", Rungs: []Rung{
		{Width: 1280, Height: 720, VideoBitrate: 3_400_000, Codec: HEVC},
		{Height: 360, VideoBitrate: 650_000, AudioBitrate: 64_000, AudioChannels: 2},
	}}
	if !ladderEqual(l, want) {
		t.Fatalf("got %+v, want %+v", l, want)
	}
	arr, err := ParseLadder([]byte(`[{"height": 360, "video_bitrate": "650k"}]`))
	if err != nil || len(arr.Rungs) != 1 {
		t.Errorf("bare array: %+v %v", arr, err)
	}
}

// TestParseLadderErrors: each malformed file is refused with an error that says where.
func TestParseLadderErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
		line            int
	}{
		{"size", "1280by720 3400k\n", "size", 1},
		{"bitrate", "\n720p fast\n", "bit rate", 2},
		{"one field", "720p\n", "give a size and a video bit rate", 1},
		{"option", "720p 1M colour=red\n", "unknown option", 1},
		{"option syntax", "720p 1M hevc\n", "key=value", 1},
		{"codec", "720p 1M codec=vp9\n", "unknown video codec", 1},
		{"late name", "720p 1M\nladder x\n", "before the rungs", 2},
		{"json typo", `{"rungs":[{"height":720,"bitrate":"1M"}]}`, "unknown field", 0},
		{"json syntax", `{"rungs":[`, "ends before", 0},
		{"json trailing", `{"rungs":[]} {}`, "after the JSON", 0},
		{"empty", "# nothing\n", "no rungs", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseLadder([]byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			var se *SyntaxError
			if c.line >= 0 && (!errors.As(err, &se) || se.Line != c.line) {
				t.Errorf("got %#v, want a *SyntaxError at line %d", err, c.line)
			}
		})
	}
	if _, err := ParseLadder(bytes.Repeat([]byte("#"), maxLadderFile+1)); err == nil {
		t.Error("an oversized file was accepted")
	}
}

func TestWithCodec(t *testing.T) {
	l, _ := PresetLadder(Preset720p, nil)
	h := l.WithCodec(HEVC)
	for i, r := range h.Rungs {
		if r.Codec != HEVC || r.Profile != "" || l.Rungs[i].Codec != "" {
			t.Fatalf("rung %d: %+v (original %+v)", i, r, l.Rungs[i])
		}
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseNames(t *testing.T) {
	for _, s := range []string{"h264", "AVC", "x265", "hvc1", "av01", "SVT-AV1"} {
		if _, err := ParseCodec(s); err != nil {
			t.Errorf("ParseCodec(%q): %v", s, err)
		}
	}
	for _, s := range []string{"auto", "AdaptiveStreaming", "H264MultipleBitrate1080p", "720p", "SD"} {
		if _, err := ParsePreset(s); err != nil {
			t.Errorf("ParsePreset(%q): %v", s, err)
		}
	}
	if _, err := ParsePreset("4k"); err == nil {
		t.Error("ParsePreset(4k) accepted")
	}
	if _, err := ParseProfile(H264, "main10"); err == nil {
		t.Error("main10 accepted for H.264")
	}
	if p, err := ParseProfile(HEVC, "Main-10"); err != nil || p != ProfileMain10 {
		t.Errorf("ParseProfile(hevc, Main-10) = %q, %v", p, err)
	}
	if s, err := ParseSpeed("VeryFast"); err != nil || s != SpeedVeryfast {
		t.Errorf("ParseSpeed = %q, %v", s, err)
	}
	if s, err := ParseStrategy("parallel"); err != nil || s != Parallel {
		t.Errorf("ParseStrategy = %q, %v", s, err)
	}
	if SpeedMedium.svtPreset() != 7 || SpeedUltrafast.svtPreset() != 12 {
		t.Error("SVT-AV1 preset mapping changed")
	}
}

func one(r Rung) Ladder { return Ladder{Rungs: []Rung{r}} }

func ladderEqual(a, b Ladder) bool {
	if a.Name != b.Name || len(a.Rungs) != len(b.Rungs) {
		return false
	}
	for i := range a.Rungs {
		if a.Rungs[i] != b.Rungs[i] {
			return false
		}
	}
	return true
}
