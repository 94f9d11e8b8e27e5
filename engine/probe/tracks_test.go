package probe

import (
	"context"
	"strings"
	"testing"

	"satchel/engine/media"
)

// TestProbeTracks checks what the multi-language title and the separate audio files carry:
// languages as BCP 47, channel counts from the codec configuration (not the sample entry's 2),
// the subtitle track, and the priming edit lists.
func TestProbeTracks(t *testing.T) {
	type want struct {
		kind     media.Kind
		codec    string
		channels int
		lang     string
		def      bool
		media    int64
	}
	cases := map[string][]want{
		"multilang.mp4": {
			{media.Video, "avc1.640015", 0, "", true, 1024},
			{media.Audio, "mp4a.40.2", 6, "en", true, 1024},
			{media.Audio, "mp4a.40.2", 2, "fr", false, 1024},
			{media.Text, "tx3g", 0, "en", true, 0},
		},
		"commentary_mono.m4a": {{media.Audio, "mp4a.40.2", 1, "en", true, 1024}},
		"surround_ac3.m4a":    {{media.Audio, "ac-3", 6, "de", true, 256}},
		"surround_eac3.m4a":   {{media.Audio, "ec-3", 6, "it", true, 256}},
	}
	for file, tracks := range cases {
		t.Run(file, func(t *testing.T) {
			a, err := Probe(context.Background(), testMedia+file)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Tracks) != len(tracks) {
				t.Fatalf("%d tracks, want %d: %+v", len(a.Tracks), len(tracks), a.Tracks)
			}
			for i, w := range tracks {
				got := a.Tracks[i]
				if got.Kind != w.kind || got.Codec != w.codec || got.Channels != w.channels || got.Language != w.lang ||
					got.Default != w.def || !got.Packageable() {
					t.Errorf("track %d: %+v, want %+v", i+1, got, w)
				}
				if got.Edit == nil || got.Edit.MediaTime != w.media || got.Edit.Ignored != "" {
					t.Errorf("track %d edit %+v, want media time %d", i+1, got.Edit, w.media)
				}
			}
			if file == "multilang.mp4" && a.Tracks[3].SampleCount == 0 {
				t.Error("subtitle track without samples")
			}
		})
	}
}

// bits builds a byte string from groups of '0'/'1' characters (spaces ignored).
func bits(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	out := make([]byte, (len(s)+7)/8)
	for i, c := range s {
		if c == '1' {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

func TestAACChannels(t *testing.T) {
	cases := []struct {
		name string
		asc  []byte
		want int
	}{
		{"stereo", []byte{0x11, 0x90}, 2},
		{"mono", []byte{0x11, 0x88}, 1},
		{"5.1", []byte{0x11, 0xb0}, 6},
		{"7.1 (config 7)", bits("00010 0011 0111 000"), 8},
		// AOT 2, 48 kHz, channelConfiguration 0, GASpecificConfig, then a PCE with a centre
		// SCE and an L/R CPE in front, one CPE at the back and one LFE: 5.1.
		{"PCE 5.1", bits("00010 0011 0000 0 0 0" + "0000 01 0011 0010 0000 0001 01 000 0000 0 0 0" +
			"0 0000 1 0000" + "1 0001" + "0000"), 6},
		{"HE-AAC v2 (PS, mono core)", bits("11101 0110 0001 0011 00010 000"), 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := aacChannels(c.asc)
			if err != nil || got != c.want {
				t.Fatalf("aacChannels(%x) = %d, %v; want %d", c.asc, got, err, c.want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0x11}, bits("00010 0011 1111"), bits("00010 0011 0000 0 0 0 0000 01")} {
		if n, err := aacChannels(bad); err == nil {
			t.Errorf("aacChannels(%x) = %d, want an error", bad, n)
		}
	}
}

func FuzzAACChannels(f *testing.F) {
	f.Add([]byte{0x11, 0x90})
	f.Add(bits("00010 0011 0000 0 0 0" + "0000 01 0011 0010 0000 0001 01 000 0000 0 0 0" + "0 0000 1 0000" + "1 0001" + "0000"))
	f.Fuzz(func(t *testing.T, asc []byte) {
		if n, err := aacChannels(asc); err == nil && (n <= 0 || n > 4*16*2+3) {
			t.Fatalf("%d channels from %x", n, asc)
		}
	})
}
