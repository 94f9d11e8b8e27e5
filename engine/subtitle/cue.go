// Package subtitle reads subtitles into cues — SRT and WebVTT files, 3GPP timed-text (tx3g,
// ffmpeg's mov_text) and WebVTT-in-MP4 (wvtt) samples — and writes them back out as
// segmented WebVTT (HLS) and as wvtt samples (ISO/IEC 14496-30, for DASH and MP4). Subtitles
// stay in the clear: nothing here encrypts. It never touches audio or video.
package subtitle

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Cue is one subtitle: text shown from Start to End.
type Cue struct {
	ID       string        // WebVTT cue identifier (optional)
	Start    time.Duration // presentation time
	End      time.Duration // after Start
	Settings string        // WebVTT cue settings, e.g. "line:85% align:center"
	Text     string        // WebVTT cue text: <i>, <b>, <u>, <c> tags and &amp; escapes; lines split by \n
}

// Limits bound what a subtitle file may hold, so a hostile file cannot exhaust memory.
const (
	MaxFileBytes = 64 << 20
	MaxCues      = 1_000_000
)

// ErrNotUTF8 says a subtitle file is not UTF-8 (or UTF-16 with a byte-order mark) text.
var ErrNotUTF8 = errors.New("is not UTF-8 text; save it as UTF-8")

// decodeText turns raw file bytes into text: UTF-8 (BOM optional) or UTF-16 with a BOM, with
// line endings normalized to \n.
func decodeText(b []byte) (string, error) {
	if len(b) > MaxFileBytes {
		return "", fmt.Errorf("is larger than %d MB; is it really a subtitle file?", MaxFileBytes>>20)
	}
	var s string
	switch {
	case len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff):
		le := b[0] == 0xff
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			if le {
				u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
			} else {
				u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
			}
		}
		s = string(utf16.Decode(u))
	default:
		if !utf8.Valid(b) {
			line := 1 + strings.Count(string(b[:firstInvalid(b)]), "\n")
			return "", fmt.Errorf("%w (line %d)", ErrNotUTF8, line)
		}
		s = strings.TrimPrefix(string(b), "\ufeff")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\x00", "\ufffd"), nil
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// Sort orders cues by start time (stable: equal starts keep file order).
func Sort(cues []Cue) {
	sort.SliceStable(cues, func(i, j int) bool { return cues[i].Start < cues[j].Start })
}

// Overlapping returns the cues shown at some time in [from, to), in order.
func Overlapping(cues []Cue, from, to time.Duration) []Cue {
	var out []Cue
	for _, c := range cues {
		if c.Start < to && c.End > from {
			out = append(out, c)
		}
	}
	return out
}

// End returns the end of the last cue.
func End(cues []Cue) time.Duration {
	var end time.Duration
	for _, c := range cues {
		end = max(end, c.End)
	}
	return end
}

// formatTime writes a WebVTT timestamp, hh:mm:ss.ttt.
func formatTime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
