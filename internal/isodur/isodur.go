// Package isodur parses and formats ISO 8601 / xs:duration values (PT1H30M, P2D, PT6.021S),
// used by DASH manifests and by PlayReady license templates.
package isodur

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parse parses an ISO 8601 duration. Months count as 30 days and years as 365 days; negative
// durations are refused.
func Parse(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not an ISO 8601 duration (for example PT48H or P2D)", s)
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, bad
	}
	var d float64
	inTime := false
	num := ""
	for _, c := range s[1:] {
		switch {
		case c == 'T' && !inTime && num == "":
			inTime = true
		case c >= '0' && c <= '9' || c == '.' || c == ',':
			if c == ',' {
				c = '.'
			}
			num += string(c)
		default:
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, bad
			}
			num = ""
			var unit time.Duration
			switch {
			case c == 'Y' && !inTime:
				unit = 365 * 24 * time.Hour
			case c == 'M' && !inTime:
				unit = 30 * 24 * time.Hour
			case c == 'W' && !inTime:
				unit = 7 * 24 * time.Hour
			case c == 'D' && !inTime:
				unit = 24 * time.Hour
			case c == 'H' && inTime:
				unit = time.Hour
			case c == 'M' && inTime:
				unit = time.Minute
			case c == 'S' && inTime:
				unit = time.Second
			default:
				return 0, bad
			}
			d += v * float64(unit)
		}
	}
	if num != "" || d > math.MaxInt64 {
		return 0, bad
	}
	return time.Duration(d), nil
}

// Format writes d as PTnHnMn.nnnS (millisecond precision, zero parts omitted).
func Format(d time.Duration) string {
	ms := int64(math.Round(float64(d) / float64(time.Millisecond)))
	h := ms / 3600000
	m := (ms % 3600000) / 60000
	s := float64(ms%60000) / 1000
	out := "PT"
	if h > 0 {
		out += fmt.Sprintf("%dH", h)
	}
	if m > 0 {
		out += fmt.Sprintf("%dM", m)
	}
	if s > 0 || out == "PT" {
		out += strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", s), "0"), ".") + "S"
	}
	return out
}
