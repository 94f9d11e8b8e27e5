package encode

import (
	"fmt"
	"strings"
)

// Codec is a video codec a rung can be encoded with.
type Codec string

// The video codecs, each with the ffmpeg encoder Satchel drives (all three are in Debian's
// ffmpeg).
const (
	H264 Codec = "h264" // libx264; the default: every device decodes it
	HEVC Codec = "hevc" // libx265, tagged hvc1 (what Apple devices require)
	AV1  Codec = "av1"  // libsvtav1
)

// Codecs lists every codec in the order a user interface offers them.
var Codecs = []Codec{H264, HEVC, AV1}

// ParseCodec parses a codec name (case-insensitive); common aliases (avc, h265, x264, svtav1,
// av01, …) are accepted.
func ParseCodec(s string) (Codec, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "h264", "h.264", "avc", "avc1", "x264", "libx264":
		return H264, nil
	case "hevc", "h265", "h.265", "hvc1", "x265", "libx265":
		return HEVC, nil
	case "av1", "av01", "svtav1", "svt-av1", "libsvtav1":
		return AV1, nil
	}
	return "", fmt.Errorf("unknown video codec %q: use h264, hevc or av1", s)
}

// Known reports whether c is exactly one of Codecs (ParseCodec maps aliases to these).
func (c Codec) Known() bool {
	for _, v := range Codecs {
		if c == v {
			return true
		}
	}
	return false
}

// Encoder is the name of the ffmpeg encoder for the codec.
func (c Codec) Encoder() string {
	switch c {
	case HEVC:
		return "libx265"
	case AV1:
		return "libsvtav1"
	}
	return "libx264"
}

// Profiles lists the profiles Satchel offers for the codec, the default first.
func (c Codec) Profiles() []Profile {
	switch c {
	case H264:
		return []Profile{ProfileHigh, ProfileMain, ProfileBaseline}
	case HEVC, AV1:
		return []Profile{ProfileMain, ProfileMain10}
	}
	return nil
}

// DefaultProfile is the profile used when a rung names none: High for H.264, Main (8-bit)
// for HEVC and AV1.
func (c Codec) DefaultProfile() Profile {
	if p := c.Profiles(); len(p) > 0 {
		return p[0]
	}
	return ""
}

// Profile is a codec profile. For HEVC and AV1, main10 selects 10-bit 4:2:0 (AV1's Main
// profile covers both bit depths; Satchel names the 10-bit choice main10 for both).
type Profile string

// The profiles.
const (
	ProfileBaseline Profile = "baseline" // H.264 Constrained Baseline: very old phones only
	ProfileMain     Profile = "main"
	ProfileHigh     Profile = "high"   // H.264 High: the usual choice
	ProfileMain10   Profile = "main10" // 10-bit HEVC or AV1
)

// ParseProfile parses a profile name (case-insensitive) and checks that codec has it.
func ParseProfile(codec Codec, s string) (Profile, error) {
	p := Profile(strings.ToLower(strings.TrimSpace(s)))
	if p == "main-10" || p == "main 10" {
		p = ProfileMain10
	}
	if p.validFor(codec) {
		return p, nil
	}
	return "", fmt.Errorf("profile %q is not offered for %s: use %s", s, codec, profileList(codec))
}

func (p Profile) validFor(c Codec) bool {
	for _, q := range c.Profiles() {
		if p == q {
			return true
		}
	}
	return false
}

func profileList(c Codec) string {
	var names []string
	for _, p := range c.Profiles() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// pixelFormat is the ffmpeg pixel format a profile encodes from.
func (p Profile) pixelFormat() string {
	if p == ProfileMain10 {
		return "yuv420p10le"
	}
	return "yuv420p"
}

// Speed is the encoder speed/quality trade-off, named like x264's presets; Satchel maps it to
// the same-named x265 preset and to an SVT-AV1 preset number.
type Speed string

// The speeds, fastest first. SpeedMedium is the default (x264's and x265's own default).
const (
	SpeedUltrafast Speed = "ultrafast"
	SpeedSuperfast Speed = "superfast"
	SpeedVeryfast  Speed = "veryfast"
	SpeedFaster    Speed = "faster"
	SpeedFast      Speed = "fast"
	SpeedMedium    Speed = "medium"
	SpeedSlow      Speed = "slow"
	SpeedSlower    Speed = "slower"
	SpeedVeryslow  Speed = "veryslow"
)

// Speeds lists every speed, fastest first.
var Speeds = []Speed{SpeedUltrafast, SpeedSuperfast, SpeedVeryfast, SpeedFaster, SpeedFast, SpeedMedium,
	SpeedSlow, SpeedSlower, SpeedVeryslow}

// ParseSpeed parses a speed name (case-insensitive).
func ParseSpeed(s string) (Speed, error) {
	sp := Speed(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Speeds {
		if sp == v {
			return sp, nil
		}
	}
	return "", fmt.Errorf("unknown encoder speed %q: use ultrafast, superfast, veryfast, faster, fast, "+
		"medium, slow, slower or veryslow", s)
}

// svtPreset maps a speed to an SVT-AV1 preset (0 slowest … 13 fastest); medium is 7.
func (s Speed) svtPreset() int {
	for i, v := range Speeds {
		if s == v {
			return 12 - i
		}
	}
	return 7
}
