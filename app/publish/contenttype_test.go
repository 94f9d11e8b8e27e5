package publish

import "testing"

func TestContentTypeOfTracks(t *testing.T) {
	for rel, want := range map[string]string{
		"cenc/audio_fr/init.mp4":                                "audio/mp4",
		"cbcs/audio/init.mp4":                                   "audio/mp4",
		"text/text_en/init.mp4":                                 "application/mp4",
		"text/text_en/seg_00001.vtt":                            "text/vtt; charset=utf-8",
		"text/text_en/seg_00001.m4s":                            "video/iso.segment",
		"text/text_en/playlist.m3u8":                            "application/vnd.apple.mpegurl",
		"pkg/text/text_fr/init.mp4":                             "application/mp4",
		"cenc/240p/init.mp4":                                    "video/mp4",
		"download/240p.mp4":                                     "video/mp4",
		"cenc/audio_fr/seg_00002.m4s":                           "video/iso.segment",
		"cenc/manifest.ismc":                                    "application/vnd.ms-sstr+xml",
		"cenc/QualityLevels(412000)/Fragments(video=24576)":     "video/mp4",
		"cenc/QualityLevels(128000)/Fragments(audio_fr=0)":      "audio/mp4",
		"pkg/cenc/QualityLevels(128001)/Fragments(audio=96000)": "audio/mp4",
		"cenc/240p/README":                                      "application/octet-stream",
	} {
		if got := ContentType(rel); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", rel, got, want)
		}
	}
}
