package packaging

import (
	"fmt"
	"strings"
)

// Format is one kind of output a package can hold.
type Format string

// The output formats.
const (
	FormatDASH Format = "dash" // MPEG-DASH MPD over CMAF segments
	FormatHLS  Format = "hls"  // HLS multivariant + media playlists over the same CMAF segments
	FormatMP4  Format = "mp4"  // one single-file fragmented MP4 per rendition (progressive download)
)

// AllFormats lists every format in the order Satchel writes them.
var AllFormats = []Format{FormatDASH, FormatHLS, FormatMP4}

// ParseFormats parses a comma-separated list such as "dash,hls" (case-insensitive; "all"
// selects every format). Duplicates are dropped; the result keeps AllFormats order.
func ParseFormats(csv string) ([]Format, error) {
	seen := map[Format]bool{}
	for _, f := range strings.Split(csv, ",") {
		name := Format(strings.ToLower(strings.TrimSpace(f)))
		switch {
		case name == "":
			continue
		case name == "all":
			return append([]Format(nil), AllFormats...), nil
		case !name.Known():
			return nil, fmt.Errorf("unknown output format %q: use dash, hls, mp4 or all", f)
		}
		seen[name] = true
	}
	var out []Format
	for _, f := range AllFormats {
		if seen[f] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no output format given: use dash, hls, mp4 or all")
	}
	return out, nil
}

// Known reports whether f is one of AllFormats.
func (f Format) Known() bool {
	for _, k := range AllFormats {
		if f == k {
			return true
		}
	}
	return false
}
