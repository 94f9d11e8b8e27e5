package encode

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestParseProbe reads ffprobe's JSON for the kinds of master a studio has (testdata/ffprobe,
// made by its make.sh) and checks what Satchel encodes from.
func TestParseProbe(t *testing.T) {
	cases := []struct {
		file          string
		w, h          int
		rate          Rational
		interlaced    bool
		rotation      int
		videoBitrate  int64
		estimated     bool
		audioChannels int
	}{
		{"h264_1080p24.mp4", 1920, 1080, Rational{24, 1}, false, 0, 12519656, false, 1},
		{"rotated.mp4", 720, 1280, Rational{30000, 1001}, false, 90, 7490933, false, 0},
		{"anamorphic_interlaced.mxf", 1920, 1080, Rational{25, 1}, true, 0, 25579976 - 4608000, true, 6},
		{"prores.mkv", 1920, 1080, Rational{25, 1}, false, 0, 48540208 - 1058400, true, 1},
		{"prores.mov", 1920, 1080, Rational{25, 1}, false, 0, 47466416, false, 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			m, err := parseProbe(readFixture(t, c.file), c.file)
			if err != nil {
				t.Fatal(err)
			}
			v := m.Video
			if v.Width != c.w || v.Height != c.h || v.FrameRate != c.rate || v.Interlaced != c.interlaced ||
				v.Rotation != c.rotation {
				t.Errorf("video %dx%d %s interlaced=%v rotation=%d, want %dx%d %s %v %d",
					v.Width, v.Height, v.FrameRate, v.Interlaced, v.Rotation, c.w, c.h, c.rate, c.interlaced, c.rotation)
			}
			if v.Bitrate != c.videoBitrate || v.BitrateEstimated != c.estimated {
				t.Errorf("video bit rate %d (estimated %v), want %d (%v)",
					v.Bitrate, v.BitrateEstimated, c.videoBitrate, c.estimated)
			}
			gotCh := 0
			if m.Audio != nil {
				gotCh = m.Audio.Channels
			}
			if gotCh != c.audioChannels {
				t.Errorf("audio channels %d, want %d", gotCh, c.audioChannels)
			}
			if m.Duration < 900*time.Millisecond || m.Duration > 1100*time.Millisecond {
				t.Errorf("duration %s, want about 1s", m.Duration)
			}
		})
	}
}

func TestParseProbeRefusesNonVideo(t *testing.T) {
	cases := []struct {
		file string
		want error
	}{
		{"audio.m4a", ErrNoVideo},
		{"coverart.m4a", ErrNoVideo}, // the picture is cover art, not video
		{"still.png", ErrStillImage},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := parseProbe(readFixture(t, c.file), c.file)
			var me *MasterError
			if !errors.Is(err, c.want) || !errors.As(err, &me) {
				t.Fatalf("got %v, want a *MasterError wrapping %v", err, c.want)
			}
		})
	}
	if _, err := parseProbe([]byte("{"), "x"); !errors.Is(err, ErrNotMedia) {
		t.Errorf("truncated JSON: got %v, want ErrNotMedia", err)
	}
}

func TestChooseFrameRate(t *testing.T) {
	cases := []struct {
		name, avg, nominal string
		want               Rational
	}{
		{"exact 24", "24/1", "24/1", Rational{24, 1}},
		{"23.976 stays NTSC", "24000/1001", "24000/1001", Rational{24000, 1001}},
		{"measured 29.97", "2997/100", "30000/1001", Rational{30000, 1001}},
		{"phone VFR: nominal is a timebase", "8991/300", "90000/1", Rational{30000, 1001}},
		{"odd rate kept", "12/1", "12/1", Rational{12, 1}},
		{"measured odd rate", "119880/9991", "119880/9991", Rational{11999, 1000}},
		{"no average", "0/0", "25/1", Rational{25, 1}},
		{"nothing usable", "0/0", "0/0", Rational{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := chooseFrameRate(c.avg, c.nominal); got != c.want {
				t.Errorf("chooseFrameRate(%q, %q) = %s, want %s", c.avg, c.nominal, got, c.want)
			}
		})
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ffprobe", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
