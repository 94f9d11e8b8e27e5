package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/media"
)

// tx3gAllForced is the QuickTime display flag saying every sample of a 3GPP timed-text track
// is forced (shown even when subtitles are off).
const tx3gAllForced = 0x80000000

// describeText fills in a subtitle track: 3GPP timed text (tx3g, what ffmpeg's mov_text
// writes) and WebVTT (wvtt) are converted; other formats are marked unsupported.
func describeText(t *Track, entry mp4.Box) {
	t.SampleEntry = entry.Type()
	switch t.SampleEntry {
	case "tx3g":
		t.Codec = "tx3g"
		if flags, ok := tx3gDisplayFlags(entry); ok && flags&tx3gAllForced != 0 {
			t.Forced = true
		}
	case "wvtt":
		t.Codec = "wvtt"
	case "stpp":
		t.Codec = "stpp"
		t.Unsupported = "is a TTML (stpp) subtitle track, which Satchel does not convert; " +
			"export it as SRT or WebVTT and give that file"
	default:
		t.Codec = t.SampleEntry
		t.Unsupported = fmt.Sprintf("is a subtitle track in the unsupported format %q (supported: tx3g/mov_text, wvtt); "+
			"export it as SRT or WebVTT and give that file", t.SampleEntry)
	}
}

// tx3gDisplayFlags reads displayFlags from a tx3g sample entry (3GPP TS 26.245 5.16), which
// mp4ff keeps undecoded: 8-byte header, 6 reserved bytes, data_reference_index, then flags.
func tx3gDisplayFlags(entry mp4.Box) (uint32, bool) {
	var b bytes.Buffer
	if err := entry.Encode(&b); err != nil || b.Len() < 20 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b.Bytes()[16:20]), true
}

// chapterTracks returns the IDs of tracks referenced as chapters ('chap' track references):
// QuickTime chapter lists are text tracks, but titles, not subtitles.
func chapterTracks(moov *mp4.MoovBox) map[uint32]bool {
	out := map[uint32]bool{}
	for _, trak := range moov.Traks {
		for _, c := range trak.Children {
			tref, ok := c.(*mp4.TrefBox)
			if !ok {
				continue
			}
			for _, ref := range tref.Children {
				if ref.Type() != "chap" {
					continue
				}
				var b bytes.Buffer
				if ref.Encode(&b) != nil {
					continue
				}
				for p := 8; p+4 <= b.Len(); p += 4 {
					out[binary.BigEndian.Uint32(b.Bytes()[p:])] = true
				}
			}
		}
	}
	return out
}

// trackLanguage returns the track's language as a BCP 47 tag: the extended language (elng)
// when present, else the ISO 639-2/T code of mdhd; "" when undetermined or not a language.
func trackLanguage(trak *mp4.TrakBox) string {
	if e := trak.Mdia.Elng; e != nil && e.Language != "" {
		if tag, err := media.ParseLanguage(e.Language); err == nil && tag != "" {
			return tag
		}
	}
	tag, err := media.ParseLanguage(trak.Mdia.Mdhd.GetLanguage())
	if err != nil {
		return ""
	}
	return tag
}

// trackRole returns the role a 'kind' box (urn:mpeg:dash:role:2011) gives the track, if any.
func trackRole(trak *mp4.TrakBox) media.Role {
	if trak.Udta == nil {
		return ""
	}
	for _, c := range trak.Udta.Children {
		if k, ok := c.(*mp4.KindBox); ok && k.SchemeURI == "urn:mpeg:dash:role:2011" {
			switch r := media.Role(k.Value); r {
			case media.RoleMain, media.RoleAlternate, media.RoleDub, media.RoleCommentary, media.RoleDescription,
				media.RoleSubtitle, media.RoleCaption, media.RoleForced:
				return r
			}
		}
	}
	return ""
}
