package encode

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// TestPresetTables: the fixed presets have the rung counts and ranges AMS documents.
func TestPresetTables(t *testing.T) {
	cases := []struct {
		p                Preset
		n                int
		top, bottom      Bitrate
		topH, bottomH    int
		firstAMSWidthFor int
	}{
		{Preset1080p, 8, 6_000_000, 400_000, 1080, 180, 1920},
		{Preset720p, 6, 3_400_000, 400_000, 720, 180, 1280},
		{PresetSD, 5, 1_900_000, 400_000, 480, 240, 854},
	}
	for _, c := range cases {
		t.Run(string(c.p), func(t *testing.T) {
			l, err := PresetLadder(c.p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Validate(); err != nil {
				t.Fatal(err)
			}
			r := l.Rungs
			if len(r) != c.n || r[0].VideoBitrate != c.top || r[len(r)-1].VideoBitrate != c.bottom ||
				r[0].Height != c.topH || r[len(r)-1].Height != c.bottomH {
				last := r[len(r)-1]
				t.Errorf("%s: %d rungs %s..%s %dp..%dp", c.p, len(r), r[0].VideoBitrate, last.VideoBitrate,
					r[0].Height, last.Height)
			}
			m := fakeMaster(1920, 1080, Rational{25, 1}, 50_000_000)
			if w := m.widthFor(r[0].Height); w != c.firstAMSWidthFor {
				t.Errorf("width for %dp on a 16:9 master: %d, want %d", r[0].Height, w, c.firstAMSWidthFor)
			}
		})
	}
	if _, err := PresetLadder(PresetAuto, nil); err == nil {
		t.Error("the auto preset without a master was accepted")
	}
}

// TestAutoLadderMatchesAMS reproduces the three examples AMS publishes for AdaptiveStreaming.
func TestAutoLadderMatchesAMS(t *testing.T) {
	cases := []struct {
		name string
		m    *Master
		want []string // WxH@kbps, within 10 kb/s
	}{
		{"1080p 29.97", fakeMaster(1920, 1080, Rational{30000, 1001}, 20_000_000),
			[]string{"1920x1080@6780", "1280x720@3520", "960x540@2210", "640x360@1150", "480x270@720", "320x180@380"}},
		{"720p 23.976", fakeMaster(1280, 720, Rational{24000, 1001}, 20_000_000),
			[]string{"1280x720@2940", "960x540@1850", "640x360@960", "480x270@600", "320x180@320"}},
		// AMS's 360p example is the 1080p table's bottom three scaled by 0.61: a source whose
		// video runs at about 700 kb/s.
		{"360p 29.97 at 700 kb/s", fakeMaster(640, 360, Rational{30000, 1001}, 700_000),
			[]string{"640x360@700", "480x270@440", "320x180@230"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := AutoLadder(c.m)
			if len(l.Rungs) != len(c.want) {
				t.Fatalf("got %d rungs %v, want %v", len(l.Rungs), describeLadder(l), c.want)
			}
			for i, r := range l.Rungs {
				var w, h int
				var kbps int64
				fmt.Sscanf(c.want[i], "%dx%d@%d", &w, &h, &kbps)
				if r.Width != w || r.Height != h || abs(r.VideoBitrate.Kbps()-kbps) > 10 {
					t.Errorf("rung %d: %dx%d@%d, want %s", i+1, r.Width, r.Height, r.VideoBitrate.Kbps(), c.want[i])
				}
			}
		})
	}
}

// TestAutoLadderNeverExceedsMaster checks the two promises on many random masters: no rung
// larger than the master, no rung above the master's video bit rate; and the ladder is valid.
func TestAutoLadderNeverExceedsMaster(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rates := []Rational{{24000, 1001}, {25, 1}, {30, 1}, {50, 1}, {60000, 1001}}
	for i := 0; i < 500; i++ {
		w, h := 2*(8+rng.IntN(2000)), 2*(8+rng.IntN(1100))
		br := int64(100_000 + rng.IntN(60_000_000))
		m := fakeMaster(w, h, rates[rng.IntN(len(rates))], br)
		l := AutoLadder(m)
		if err := l.Validate(); err != nil {
			t.Fatalf("%dx%d @%d: %v (%v)", w, h, br, err, describeLadder(l))
		}
		for _, r := range l.Rungs {
			if r.Width > w || r.Height > h || (int64(r.VideoBitrate) > br && r.VideoBitrate > MinVideoBitrate) {
				t.Fatalf("master %dx%d @%d b/s got rung %dx%d @%d", w, h, br, r.Width, r.Height, r.VideoBitrate)
			}
		}
	}
	portrait := AutoLadder(fakeMaster(1080, 1920, Rational{30, 1}, 10_000_000))
	if r := portrait.Rungs[0]; r.Width != 1080 || r.Height != 1920 {
		t.Errorf("portrait master: top rung %dx%d, want 1080x1920", r.Width, r.Height)
	}
	tiny := AutoLadder(fakeMaster(160, 120, Rational{15, 1}, 200_000))
	if len(tiny.Rungs) != 1 || tiny.Rungs[0].Width != 160 || tiny.Rungs[0].Height != 120 {
		t.Errorf("tiny master: %v", describeLadder(tiny))
	}
}

func ExamplePresetLadder() {
	l, _ := PresetLadder(Preset720p, nil)
	_ = l.WriteText(os.Stdout)
	// Output:
	// # Satchel ladder: SIZE VIDEO-BITRATE [codec= profile= audio= channels= name=]
	// ladder 720p
	// 720p       3400k
	// 540p       2250k
	// 540p       1500k
	// 360p       1000k
	// 360p       650k
	// 180p       400k
}

func fakeMaster(w, h int, rate Rational, videoBitrate int64) *Master {
	return &Master{Path: "master.mov", Duration: 10e9, Video: VideoInfo{Width: w, Height: h, StoredWidth: w,
		StoredHeight: h, FrameRate: rate, Bitrate: videoBitrate}, Audio: &AudioInfo{Index: 1, Channels: 2, SampleRate: 48000}}
}

func describeLadder(l Ladder) []string {
	var s []string
	for _, r := range l.Rungs {
		s = append(s, fmt.Sprintf("%dx%d@%d", r.Width, r.Height, r.VideoBitrate.Kbps()))
	}
	return s
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
