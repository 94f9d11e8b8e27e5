package packaging

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"satchel/engine/media"
)

// dedupAudio drops audio tracks identical to one already planned — same codec
// configuration, samples, timing and language — as a ladder's rungs usually carry the same
// audio; each drop is noted.
func (pl *plan) dedupAudio(tracks []*track) ([]*track, error) {
	var out []*track
	sums := map[*track][32]byte{}
	for _, t := range tracks {
		dup := false
		for _, k := range out {
			if k.info.Codec != t.info.Codec || k.info.SampleCount != t.info.SampleCount || k.bytes != t.bytes ||
				k.lang != t.lang || k.name != t.name || k.role != t.role || k.mediaTime != t.mediaTime {
				continue
			}
			a, err := fingerprint(k, sums)
			if err != nil {
				return nil, err
			}
			b, err := fingerprint(t, sums)
			if err != nil {
				return nil, err
			}
			if a == b {
				pl.notes = append(pl.notes, fmt.Sprintf("%s (audio) is identical to %s; packaged once", t.origin, k.origin))
				k.def = k.def || t.def
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out, nil
}

// fingerprint hashes a track's sample entry, timing and media bytes (read in segment-sized
// pieces, so memory stays flat).
func fingerprint(t *track, cache map[*track][32]byte) ([32]byte, error) {
	if sum, ok := cache[t]; ok {
		return sum, nil
	}
	h := sha256.New()
	entry, err := copyBox(t.src.file.Trak(t.info.ID).Mdia.Minf.Stbl.Stsd.Children[0])
	if err != nil {
		return [32]byte{}, err
	}
	if err := entry.Encode(h); err != nil {
		return [32]byte{}, err
	}
	for i := 0; i < len(t.samples); i += 256 {
		ss := t.samples[i:min(i+256, len(t.samples))]
		for _, s := range ss {
			fmt.Fprintf(h, "%d/%d/%d/%d;", s.DecodeTime, s.Dur, s.CTO, s.Size)
		}
		buf, _, err := sampleData(t.src.file.F, ss)
		if err != nil {
			return [32]byte{}, err
		}
		h.Write(buf)
		putBuf(buf)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	cache[t] = sum
	return sum, nil
}

// dedupText drops subtitle tracks whose cues, language and flags equal one already planned.
func (pl *plan) dedupText(tracks []*track) []*track {
	var out []*track
	for _, t := range tracks {
		i := slices.IndexFunc(out, func(k *track) bool {
			return k.lang == t.lang && k.forced == t.forced && k.sdh == t.sdh && k.name == t.name && slices.Equal(k.cues, t.cues)
		})
		if i >= 0 {
			pl.notes = append(pl.notes, fmt.Sprintf("%s (subtitles) is identical to %s; packaged once", t.origin, out[i].origin))
			continue
		}
		out = append(out, t)
	}
	return out
}

// nameTracks gives audio and text tracks their rendition IDs, names, roles and the default:
// IDs from the language ("audio_en", "text_fr_forced"), names from the language in itself
// ("English", "Français") with the role or flags, unique within their kind.
func nameTracks(audios, texts []*track) {
	def := slices.IndexFunc(audios, func(t *track) bool { return t.def })
	if def < 0 {
		def = 0
	}
	ids, names := map[string]int{}, map[string]int{}
	for i, t := range audios {
		t.def = i == def
		if t.role == "" {
			t.role = media.RoleAlternate
			if t.def {
				t.role = media.RoleMain
			}
		}
		suffix := ""
		switch t.role {
		case media.RoleCommentary:
			suffix = " (commentary)"
		case media.RoleDescription:
			suffix = " (audio description)"
		}
		t.id = uniqueID(ids, "audio", t.lang, "")
		t.name = uniqueName(names, t.name, t.lang, "Audio", suffix, channelLabel(t.info.Channels), codecLabel(t.info.Codec))
	}
	names = map[string]int{}
	for _, t := range texts {
		t.def = false // players choose subtitles by language and forced flags, never by default
		tag, suffix := "", ""
		t.role = media.RoleSubtitle
		switch {
		case t.forced:
			tag, suffix, t.role = "_forced", " (forced)", media.RoleForced
		case t.sdh:
			tag, suffix, t.role = "_sdh", " (SDH)", media.RoleCaption
		}
		t.id = uniqueID(ids, "text", t.lang, tag)
		t.name = uniqueName(names, t.name, t.lang, "Subtitles", suffix)
	}
}

func uniqueID(seen map[string]int, prefix, lang, tag string) string {
	id := prefix
	if lang != "" {
		id += "_" + strings.ToLower(lang)
	}
	id += tag
	seen[id]++
	if n := seen[id]; n > 1 {
		id = fmt.Sprintf("%s_%d", id, n)
	}
	return id
}

// uniqueName returns the given name, else one made from the language (or fallback) and
// suffix; a name already taken gets the first distinguishing detail that frees it (channel
// layout, codec), else a number.
func uniqueName(seen map[string]int, given, lang, fallback, suffix string, details ...string) string {
	name := given
	if name == "" {
		name = media.LanguageName(lang)
		if name == "" {
			name = fallback
		}
		name += suffix
	}
	base := name
	for _, d := range details {
		if seen[name] == 0 || d == "" {
			break
		}
		name += " " + d
	}
	seen[name]++
	if n := seen[name]; n > 1 {
		name = fmt.Sprintf("%s %d", name, n)
	}
	seen[base]++
	return name
}

// channelLabel names a channel count as players' menus do.
func channelLabel(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "mono"
	case 2:
		return "stereo"
	case 6:
		return "5.1"
	case 8:
		return "7.1"
	}
	return fmt.Sprintf("%dch", n)
}

// codecLabel names an audio codec for a menu label.
func codecLabel(codecs string) string {
	switch {
	case codecs == "ac-3":
		return "(Dolby Digital)"
	case codecs == "ec-3":
		return "(Dolby Digital Plus)"
	case strings.HasPrefix(codecs, "mp4a.40."):
		return "(AAC)"
	}
	return ""
}
