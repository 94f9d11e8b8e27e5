package encode

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bitrate is a bit rate in bits per second.
type Bitrate int64

// ParseBitrate parses a bit rate: a number of bits per second with an optional k or M suffix
// (decimal: 1k = 1000), optionally followed by "b/s" or "bps": "6000k", "6M", "2.5Mbps",
// "128 kb/s", "800000".
func ParseBitrate(s string) (Bitrate, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, suf := range []string{"bps", "b/s"} {
		t = strings.TrimSpace(strings.TrimSuffix(t, suf))
	}
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v*mult > 1e12 {
		return 0, fmt.Errorf("bit rate %q: give a number of bits per second, e.g. 3400k or 6M", s)
	}
	return Bitrate(math.Round(v * mult)), nil
}

// Kbps is the bit rate in kilobits per second, rounded.
func (b Bitrate) Kbps() int64 { return (int64(b) + 500) / 1000 }

// String formats the bit rate as ffmpeg takes it: "3400k" when it is a whole number of
// kilobits per second, else bits per second.
func (b Bitrate) String() string {
	if b%1000 == 0 {
		return strconv.FormatInt(int64(b)/1000, 10) + "k"
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalJSON accepts a number of bits per second or a string ParseBitrate reads.
func (b *Bitrate) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		v, err := ParseBitrate(s)
		if err != nil {
			return err
		}
		*b = v
		return nil
	}
	var f float64
	if err := json.Unmarshal(data, &f); err != nil || f < 0 || f > 1e12 {
		return fmt.Errorf("bit rate %s: give bits per second as a number or a string such as \"3400k\"", data)
	}
	*b = Bitrate(math.Round(f))
	return nil
}
