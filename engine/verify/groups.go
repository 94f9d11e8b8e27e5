package verify

import (
	"fmt"
	"strings"

	"satchel/engine/manifest"
)

// countVariants records what the variants of a multivariant playlist offer: the audio tracks
// a player can choose (EXT-X-MEDIA TYPE=AUDIO renditions, or muxed audio when there are
// none), audio-only variants, and video variants that carry no audio at all.
func countVariants(fact *ManifestFact, pl *manifest.Playlist) {
	groups := map[string]bool{}
	for _, m := range pl.Media {
		if strings.EqualFold(m.Type, "AUDIO") {
			fact.AudioTracks++
			groups[m.GroupID] = true
		}
	}
	muxed := false
	for _, va := range pl.Variants {
		video, audio := codecKinds(va.Codecs)
		if audio && !video && va.Resolution == "" {
			fact.AudioOnlyVariants++
			continue
		}
		switch {
		case va.Audio != "" && groups[va.Audio]:
		case audio && va.Audio == "":
			muxed = true
		default:
			fact.VideoWithoutAudio++
		}
	}
	if fact.AudioTracks == 0 && muxed {
		fact.AudioTracks = 1
	}
}

// codecKinds reports whether an RFC 6381 CODECS list names video and audio codecs.
func codecKinds(codecs string) (video, audio bool) {
	for _, c := range strings.Split(codecs, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		switch {
		case c == "":
		case hasAnyPrefix(c, "avc1", "avc3", "hvc1", "hev1", "av01", "vp09", "vp8", "dvh1", "dvhe", "vvc1", "vvi1"):
			video = true
		case hasAnyPrefix(c, "mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "dtsc", "dtse"):
			audio = true
		}
	}
	return video, audio
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// checkGroups checks that every AUDIO and SUBTITLES group a variant names is defined by
// EXT-X-MEDIA tags: players drop a variant whose group is missing, or play it silent.
func (v *verifier) checkGroups(e *entry, pl *manifest.Playlist) {
	defined := map[string]bool{}
	for _, m := range pl.Media {
		defined[strings.ToUpper(m.Type)+"|"+m.GroupID] = true
	}
	for i, va := range pl.Variants {
		for _, g := range []struct{ typ, id string }{{"AUDIO", va.Audio}, {"SUBTITLES", va.Subtitles}} {
			if g.id == "" || defined[g.typ+"|"+g.id] {
				continue
			}
			v.rep.failAt(Where{File: e.name, At: fmt.Sprintf("EXT-X-STREAM-INF[%d]", i)}, CatStructure, e.name,
				fmt.Sprintf("the variant %s names %s group %q, which no EXT-X-MEDIA tag defines", va.URI, g.typ, g.id),
				"re-package so every group a variant names has its EXT-X-MEDIA renditions")
		}
	}
}
