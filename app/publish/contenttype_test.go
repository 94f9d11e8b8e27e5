package publish

import "testing"

func TestContentTypeOfTracks(t *testing.T) {
	for rel, want := range map[string]string{
		"cenc/audio_fr/init.mp4":      "audio/mp4",
		"cbcs/audio/init.mp4":         "audio/mp4",
		"text/text_en/init.mp4":       "application/mp4",
		"text/text_en/seg_00001.vtt":  "text/vtt; charset=utf-8",
		"text/text_en/seg_00001.m4s":  "video/iso.segment",
		"text/text_en/playlist.m3u8":  "application/vnd.apple.mpegurl",
		"pkg/text/text_fr/init.mp4":   "application/mp4",
		"cenc/240p/init.mp4":          "video/mp4",
		"download/240p.mp4":           "video/mp4",
		"cenc/audio_fr/seg_00002.m4s": "video/iso.segment",
	} {
		if got := ContentType(rel); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", rel, got, want)
		}
	}
}
