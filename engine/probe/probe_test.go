package probe

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel/internal/golden"
)

const testMedia = "../../testdata/media/"

func TestProbeMedia(t *testing.T) {
	cases := []struct {
		file          string
		video, audio  string
		w, h          int
		syncs         int
		fragmented    bool
		minBitrateKbs int64
	}{
		{"ladder_240p.mp4", "avc1.640015", "mp4a.40.2", 426, 240, 3, false, 150},
		{"ladder_360p.mp4", "avc1.64001e", "mp4a.40.2", 640, 360, 3, false, 300},
		{"ladder_720p.mp4", "avc1.64001f", "mp4a.40.2", 1280, 720, 3, false, 700},
		{"hevc_720p.mp4", "hvc1.1.6.L93.90", "mp4a.40.2", 1280, 720, 3, false, 300},
		{"fragmented_360p.mp4", "avc1.64001e", "mp4a.40.2", 640, 360, 3, true, 300},
		{"misaligned_360p.mp4", "avc1.64001e", "mp4a.40.2", 640, 360, 4, false, 300},
		{"audio_only.m4a", "", "mp4a.40.2", 0, 0, 0, false, 40},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			a, err := Probe(context.Background(), testMedia+c.file)
			if err != nil {
				t.Fatal(err)
			}
			if a.Fragmented != c.fragmented {
				t.Errorf("fragmented = %v", a.Fragmented)
			}
			if d := a.Duration; d < 5900*time.Millisecond || d > 6200*time.Millisecond {
				t.Errorf("duration %s, want ~6s", d)
			}
			if a.Bitrate/1000 < c.minBitrateKbs {
				t.Errorf("bitrate %d kb/s < %d", a.Bitrate/1000, c.minBitrateKbs)
			}
			if v := a.Video(); c.video == "" {
				if v != nil {
					t.Errorf("unexpected video track")
				}
			} else {
				if v == nil || v.Codec != c.video || v.Width != c.w || v.Height != c.h || len(v.SyncTimes) != c.syncs || v.SampleCount != 144 {
					t.Fatalf("video %+v", v)
				}
				if v.SyncTimes[0] != 0 {
					t.Errorf("first sync at %s", v.SyncTimes[0])
				}
			}
			channels := 2
			if c.file == "audio_only.m4a" {
				channels = 1 // mono: the sample entry says 2, the AudioSpecificConfig says 1
			}
			if au := a.Audio(); au == nil || au.Codec != c.audio || au.SampleRate != 48000 || au.Channels != channels {
				t.Fatalf("audio %+v", au)
			}
		})
	}
}

func TestProbeGoldenJSON(t *testing.T) {
	for _, f := range []string{"ladder_360p.mp4", "hevc_720p.mp4"} {
		a, err := Probe(context.Background(), testMedia+f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, strings.TrimSuffix(f, ".mp4")+".json", got)
	}
}

func TestLadderAlignment(t *testing.T) {
	probeAll := func(names ...string) []*Asset {
		var as []*Asset
		for _, n := range names {
			a, err := Probe(context.Background(), testMedia+n)
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		return as
	}
	if err := CheckLadder(probeAll("ladder_240p.mp4", "ladder_360p.mp4", "ladder_720p.mp4", "fragmented_360p.mp4")); err != nil {
		t.Fatalf("aligned ladder reported: %v", err)
	}
	err := CheckLadder(probeAll("ladder_240p.mp4", "ladder_360p.mp4", "misaligned_360p.mp4"))
	var mis *MisalignedError
	if !errors.As(err, &mis) {
		t.Fatalf("misaligned ladder: got %v", err)
	}
	if !strings.HasSuffix(mis.Rung, "misaligned_360p.mp4") || mis.FirstMismatch != 1500*time.Millisecond || !strings.Contains(mis.Error(), "1.5s") {
		t.Fatalf("misaligned: rung %s at %s: %s", mis.Rung, mis.FirstMismatch, mis.Error())
	}
	var in *InputError
	long := filepath.Join(t.TempDir(), "long_360p.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-stream_loop", "2", "-i", testMedia+"ladder_360p.mp4", "-c", "copy", long).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	long360, err := Probe(context.Background(), long)
	if err != nil {
		t.Fatal(err)
	}
	var dm *DurationMismatchError
	if err := CheckLadder(append(probeAll("ladder_240p.mp4"), long360)); !errors.As(err, &dm) || dm.RungDuration < 17*time.Second ||
		!strings.Contains(err.Error(), "long_360p.mp4 lasts 18") {
		t.Fatalf("a ladder with an 18 s rung among 6 s rungs: %v", err)
	}
	if err := CheckLadder(probeAll("ladder_240p.mp4", "audio_only.m4a")); !errors.As(err, &in) || !strings.Contains(err.Error(), "no video") {
		t.Fatalf("audio-only rung: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(testMedia + "ladder_360p.mp4")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.mp4"), "does not exist"},
		{"text", write("notes.mp4", []byte("hello, this is a text file and not a movie\n")), "not an MP4"},
		{"truncated", write("cut.mp4", src[:len(src)*2/3]), "truncated"},
		{"truncated header", write("cut2.mp4", src[:4]), "truncated"},
		{"empty", write("empty.mp4", nil), "no moov"},
		{"folder", dir, "folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Probe(context.Background(), c.path)
			var in *InputError
			if !errors.As(err, &in) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an InputError containing %q", err, c.want)
			}
			if !strings.Contains(err.Error(), filepath.Base(c.path)) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func FuzzProbe(f *testing.F) {
	for _, n := range []string{"fragmented_360p.mp4", "audio_only.m4a"} {
		b, _ := os.ReadFile(testMedia + n)
		f.Add(b[:min(len(b), 6000)])
	}
	small, _ := os.ReadFile(testMedia + "audio_only.m4a")
	f.Add(small)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.mp4")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Skip()
		}
		a, err := Probe(context.Background(), p)
		if err == nil && len(a.Tracks) == 0 {
			t.Fatal("no error and no tracks")
		}
	})
}
