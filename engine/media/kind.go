// Package media holds the vocabulary every media package shares: the kinds of track Satchel
// reads and writes, the roles a track plays, and language tags (BCP 47, normalized from the
// ISO 639-2 codes MP4 files carry). It imports nothing from Satchel.
package media

import (
	"fmt"
	"strings"
)

// Kind is the kind of a track: what its handler (hdlr) says it carries.
type Kind string

// The track kinds.
const (
	Video Kind = "video" // hdlr vide
	Audio Kind = "audio" // hdlr soun
	Text  Kind = "text"  // hdlr text, sbtl or subt: subtitles and captions
)

// Kinds lists every kind in the order manifests group them.
var Kinds = []Kind{Video, Audio, Text}

// ParseKind parses a kind name (case-insensitive).
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Kinds {
		if k == v {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown track kind %q: use video, audio or text", s)
}

// KindForHandler maps an MP4 handler type (hdlr) to a Kind; false for handlers that carry no
// presentable media (hint, meta, …).
func KindForHandler(handler string) (Kind, bool) {
	switch handler {
	case "vide":
		return Video, true
	case "soun":
		return Audio, true
	case "text", "sbtl", "subt":
		return Text, true
	}
	return "", false
}
