package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"satchel/engine/media"
	"satchel/packaging"
)

func TestTrackSpecs(t *testing.T) {
	dir := t.TempDir()
	colon := filepath.Join(dir, "a:b.m4a") // a file name with a colon
	os.WriteFile(colon, nil, 0o644)
	audio := []struct {
		spec string
		want packaging.AudioInput
		err  bool
	}{
		{"fr.m4a", packaging.AudioInput{Path: "fr.m4a"}, false},
		{"fr.m4a:fra:Français:dub", packaging.AudioInput{Path: "fr.m4a", Language: "fr", Name: "Français", Role: media.RoleDub}, false},
		{"c.m4a::Director:commentary", packaging.AudioInput{Path: "c.m4a", Name: "Director", Role: media.RoleCommentary}, false},
		{colon + ":pt-BR", packaging.AudioInput{Path: colon, Language: "pt-BR"}, false},
		{"x.m4a:klingon", packaging.AudioInput{}, true},
		{"x.m4a:en:Name:boss", packaging.AudioInput{}, true},
		{"x.m4a:en:a:main:extra", packaging.AudioInput{}, true},
	}
	for _, c := range audio {
		t.Run("audio "+c.spec, func(t *testing.T) {
			got, err := parseAudioSpec(c.spec)
			if (err != nil) != c.err || !c.err && got != c.want {
				t.Fatalf("parseAudioSpec(%q) = %+v, %v", c.spec, got, err)
			}
		})
	}
	subs := []struct {
		spec string
		want packaging.SubtitleInput
		err  bool
	}{
		{"en.srt:en", packaging.SubtitleInput{Path: "en.srt", Language: "en"}, false},
		{"signs.vtt:eng::forced", packaging.SubtitleInput{Path: "signs.vtt", Language: "en", Forced: true}, false},
		{"cc.srt:en:English SDH:sdh", packaging.SubtitleInput{Path: "cc.srt", Language: "en", Name: "English SDH", SDH: true}, false},
		{"x.srt:en::loud", packaging.SubtitleInput{}, true},
		{"x.ass:en", packaging.SubtitleInput{}, true},
	}
	for _, c := range subs {
		t.Run("subtitles "+c.spec, func(t *testing.T) {
			got, err := parseSubtitleSpec(c.spec)
			if (err != nil) != c.err || !c.err && got != c.want {
				t.Fatalf("parseSubtitleSpec(%q) = %+v, %v", c.spec, got, err)
			}
		})
	}
}

// TestPackageTracksCommand runs `satchel package` with an audio file and a subtitle file, and
// an input with an unsupported track: a usage-level error naming it and the flag that skips it.
func TestPackageTracksCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	code, stdout, errOut := run(t, "package", "--json", "--in", mediaFile(t, "multilang.mp4"), "--out", out, "--formats", "dash,hls",
		"--audio", mediaFile(t, "surround_ac3.m4a")+":de:Deutsch:dub", "--subtitles", filepath.Join("../../testdata/subtitles", "multilang.fr.srt")+":fr")
	if code != 0 {
		t.Fatalf("package: code %d\n%s", code, errOut)
	}
	var doc packageOutput
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range doc.Renditions {
		got = append(got, r.ID+"/"+r.Language+"/"+r.Name)
	}
	if strings.Join(got, " ") != "240p// audio_en/en/English audio_fr/fr/Français audio_de/de/Deutsch text_en/en/English text_fr/fr/Français" {
		t.Fatalf("renditions %v", got)
	}
	opus := filepath.Join(t.TempDir(), "opus.mp4")
	if b, err := exec.Command("ffmpeg", "-v", "error", "-i", mediaFile(t, "ladder_240p.mp4"), "-c:v", "copy", "-c:a", "libopus",
		"-strict", "-2", opus).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	code, _, errOut = run(t, "package", "--in", opus, "--out", filepath.Join(t.TempDir(), "x"))
	if code != ExitUsage || !strings.Contains(errOut, "opus.mp4 track 2 (audio)") || !strings.Contains(errOut, "--skip-unsupported") {
		t.Fatalf("unsupported track: code %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "package", "--in", opus, "--out", filepath.Join(t.TempDir(), "y"), "--skip-unsupported", "--formats", "dash")
	if code != 0 || !strings.Contains(errOut, "warning: opus.mp4 track 2 (audio) skipped") {
		t.Fatalf("--skip-unsupported: code %d\n%s", code, errOut)
	}
}
