package subtitle

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// srtTime matches SRT timestamps, tolerating what real files contain: '.' for ',', one-digit
// hours or none at all, and 1-3 fraction digits.
const srtTime = `(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?`

var srtTiming = regexp.MustCompile(`^\s*` + srtTime + `\s*-->\s*` + srtTime + `(?:\s.*)?$`)

// ParseSRT parses SubRip text: blocks of an optional counter, a timing line
// ("00:00:01,000 --> 00:00:02,500") and text lines, separated by blank lines. Text becomes
// WebVTT cue text: <i>, <b> and <u> are kept, other tags (<font …>, {\an8}) are dropped, and
// '&', '<' and '>' are escaped. Errors name the line.
func ParseSRT(b []byte) ([]Cue, error) {
	text, err := decodeText(b)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(text, "\n")
	var cues []Cue
	for i := 0; i < len(lines); {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		start := i
		if !srtTiming.MatchString(lines[i]) && i+1 < len(lines) && srtTiming.MatchString(lines[i+1]) {
			i++ // the cue counter
		}
		m := srtTiming.FindStringSubmatch(lines[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: expected a timing line like 00:00:01,000 --> 00:00:02,500, found %q",
				start+1, clip(lines[start]))
		}
		c := Cue{Start: hmsm(m[1:5]), End: hmsm(m[5:9])}
		if c.End <= c.Start {
			return nil, backwards(i+1, c)
		}
		i++
		var body []string
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			body = append(body, lines[i])
		}
		c.Text = srtToVTT(strings.Join(body, "\n"))
		if strings.TrimSpace(c.Text) == "" {
			continue
		}
		if len(cues) >= MaxCues {
			return nil, fmt.Errorf("more than %d cues", MaxCues)
		}
		cues = append(cues, c)
	}
	Sort(cues)
	return cues, nil
}

func hmsm(p []string) time.Duration {
	h, _ := strconv.Atoi(p[0])
	m, _ := strconv.Atoi(p[1])
	s, _ := strconv.Atoi(p[2])
	frac := p[3]
	for len(frac) < 3 {
		frac += "0"
	}
	ms, _ := strconv.Atoi(frac)
	return hms(int64(h), m, s, ms)
}

func hms(h int64, m, s, ms int) time.Duration {
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second +
		time.Duration(ms)*time.Millisecond
}

func backwards(line int, c Cue) error {
	return fmt.Errorf("line %d: the cue ends (%s) before it starts (%s)", line, formatTime(c.End), formatTime(c.Start))
}

var (
	srtTag = regexp.MustCompile(`(?i)</?([a-z]+)[^<>]*>|\{\\[^{}]*\}`)
	keep   = map[string]bool{"i": true, "b": true, "u": true}
)

// srtToVTT converts SRT markup to WebVTT cue text.
func srtToVTT(s string) string {
	var b strings.Builder
	last := 0
	for _, loc := range srtTag.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(escape(s[last:loc[0]]))
		if loc[2] >= 0 {
			name := strings.ToLower(s[loc[2]:loc[3]])
			if keep[name] {
				if strings.HasPrefix(s[loc[0]:], "</") {
					b.WriteString("</" + name + ">")
				} else {
					b.WriteString("<" + name + ">")
				}
			}
		}
		last = loc[1]
	}
	b.WriteString(escape(s[last:]))
	return strings.TrimSpace(b.String())
}

// escape makes plain text safe as WebVTT cue text.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
