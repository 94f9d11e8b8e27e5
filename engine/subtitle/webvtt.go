package subtitle

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const vttTime = `(?:(\d{1,}):)?(\d{2}):(\d{2})\.(\d{3})`

var vttTiming = regexp.MustCompile(`^` + vttTime + `[ \t]+-->[ \t]+` + vttTime + `(?:[ \t]+(.*))?$`)

// ParseWebVTT parses a WebVTT file (W3C WebVTT): the WEBVTT header, then cues with an
// optional identifier, a timing line with optional settings and the cue text, which is kept
// as written. NOTE, STYLE and REGION blocks are skipped. Errors name the line.
func ParseWebVTT(b []byte) ([]Cue, error) {
	text, err := decodeText(b)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(text, "\n")
	if h := lines[0]; !(h == "WEBVTT" || strings.HasPrefix(h, "WEBVTT ") || strings.HasPrefix(h, "WEBVTT\t")) {
		return nil, fmt.Errorf("line 1: a WebVTT file starts with \"WEBVTT\"")
	}
	i := 1
	for i < len(lines) && lines[i] != "" { // header lines (X-TIMESTAMP-MAP and the like)
		i++
	}
	var cues []Cue
	for i < len(lines) {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		start := i
		if isSkippedBlock(lines[i]) {
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				i++
			}
			continue
		}
		var c Cue
		if !strings.Contains(lines[i], "-->") {
			c.ID = strings.TrimSpace(lines[i])
			i++
		}
		if i >= len(lines) {
			return nil, fmt.Errorf("line %d: a cue identifier without a timing line", start+1)
		}
		m := vttTiming.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			return nil, fmt.Errorf("line %d: expected a timing line like 00:01.000 --> 00:02.500, found %q", i+1, clip(lines[i]))
		}
		c.Start, c.End, c.Settings = vttDur(m[1:5]), vttDur(m[5:9]), strings.TrimSpace(m[9])
		if c.End <= c.Start {
			return nil, backwards(i+1, c)
		}
		i++
		var body []string
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && !strings.Contains(lines[i], "-->"); i++ {
			body = append(body, lines[i])
		}
		c.Text = strings.Join(body, "\n")
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

// isSkippedBlock reports whether a block starting with line is a NOTE, STYLE or REGION block.
func isSkippedBlock(line string) bool {
	first := strings.TrimSpace(line)
	return first == "NOTE" || strings.HasPrefix(first, "NOTE ") || strings.HasPrefix(first, "NOTE\t") ||
		first == "STYLE" || first == "REGION"
}

func vttDur(p []string) time.Duration {
	h, _ := strconv.ParseInt(p[0], 10, 32)
	m, _ := strconv.Atoi(p[1])
	s, _ := strconv.Atoi(p[2])
	ms, _ := strconv.Atoi(p[3])
	return hms(h, m, s, ms)
}

// WriteSegment writes one WebVTT segment of an HLS subtitle playlist: every cue shown during
// [from, to), with its full times (a cue spanning segments appears in each, as RFC 8216 3.5
// requires; players drop the duplicates). X-TIMESTAMP-MAP maps cue time 0 to media time 0,
// where Satchel's CMAF tracks start.
func WriteSegment(w io.Writer, cues []Cue, from, to time.Duration) error {
	var b strings.Builder
	b.WriteString("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
	for _, c := range Overlapping(cues, from, to) {
		b.WriteString("\n")
		if c.ID != "" {
			b.WriteString(c.ID + "\n")
		}
		fmt.Fprintf(&b, "%s --> %s", formatTime(c.Start), formatTime(c.End))
		if c.Settings != "" {
			b.WriteString(" " + c.Settings)
		}
		b.WriteString("\n" + c.Text + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
