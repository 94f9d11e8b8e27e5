package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"satchel/engine/media"
	"satchel/packaging"
)

// splitTrackSpec splits FILE[:field[:field…]] into the file and at most max fields. The file
// is the longest colon-separated prefix that exists, so paths with colons (C:\…) work; when
// nothing exists the first part is the file (packaging then reports it missing).
func splitTrackSpec(spec string, max int) (string, []string, error) {
	parts := strings.Split(spec, ":")
	n := 1
	for k := len(parts); k >= 1; k-- {
		if _, err := os.Stat(strings.Join(parts[:k], ":")); err == nil {
			n = k
			break
		}
		if k == 2 && len(parts[0]) == 1 && strings.ContainsAny(parts[1][:min(1, len(parts[1]))], `\/`) {
			n = 2 // a Windows drive letter
		}
	}
	file, fields := strings.Join(parts[:n], ":"), parts[n:]
	if file == "" {
		return "", nil, fmt.Errorf("%q names no file", spec)
	}
	if len(fields) > max {
		return "", nil, fmt.Errorf("%q has %d fields after the file, at most %d (names cannot contain ':')",
			spec, len(fields), max)
	}
	return file, append(fields, make([]string, max-len(fields))...), nil
}

// parseAudioSpec parses --audio FILE[:LANG[:NAME[:ROLE]]].
func parseAudioSpec(spec string) (packaging.AudioInput, error) {
	file, f, err := splitTrackSpec(spec, 3)
	if err != nil {
		return packaging.AudioInput{}, err
	}
	in := packaging.AudioInput{Path: file, Name: strings.TrimSpace(f[1])}
	if in.Language, err = media.ParseLanguage(f[0]); err != nil {
		return in, err
	}
	in.Role, err = media.ParseAudioRole(f[2])
	return in, err
}

// parseSubtitleSpec parses --subtitles FILE[:LANG[:NAME[:FLAGS]]], FLAGS being forced and/or
// sdh separated by commas.
func parseSubtitleSpec(spec string) (packaging.SubtitleInput, error) {
	file, f, err := splitTrackSpec(spec, 3)
	if err != nil {
		return packaging.SubtitleInput{}, err
	}
	in := packaging.SubtitleInput{Path: file, Name: strings.TrimSpace(f[1])}
	if in.Language, err = media.ParseLanguage(f[0]); err != nil {
		return in, err
	}
	for _, flag := range strings.Split(f[2], ",") {
		switch strings.ToLower(strings.TrimSpace(flag)) {
		case "":
		case "forced":
			in.Forced = true
		case "sdh", "cc":
			in.SDH = true
		default:
			return in, fmt.Errorf("subtitle flag %q: use forced and/or sdh", flag)
		}
	}
	if ext := strings.ToLower(filepath.Ext(file)); ext != ".srt" && ext != ".vtt" && ext != ".webvtt" {
		return in, fmt.Errorf("%s: give an SRT (.srt) or WebVTT (.vtt) file", file)
	}
	return in, nil
}
