package encode

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits Validate enforces. They are wide on purpose: they catch typos (a bit rate in kb/s
// where b/s was meant, an odd height), not taste.
const (
	MaxRungs        = 16
	MinVideoBitrate = Bitrate(32_000)
	MaxVideoBitrate = Bitrate(200_000_000)
	MinAudioBitrate = Bitrate(16_000)
	MaxAudioBitrate = Bitrate(512_000)
	minDimension    = 16
	maxWidth        = 8192
	maxHeight       = 4320
	// DefaultAudioBitrate and DefaultAudioChannels are AAC-LC stereo at 128 kb/s, as in every
	// Azure Media Services multi-bitrate preset.
	DefaultAudioBitrate  = Bitrate(128_000)
	DefaultAudioChannels = 2
)

// Rung is one rendition of a ladder. Zero fields take defaults (see each field), so a rung
// can be as short as a height and a bit rate.
type Rung struct {
	// Name identifies the rung and names its output file; letters, digits, '.', '_' and '-'.
	// Empty: "WIDTHxHEIGHT_KBPSk", with "_hevc" or "_av1" for those codecs.
	Name string `json:"name,omitempty"`
	// Width in pixels; 0 derives it from Height and the master's display aspect ratio (square
	// pixels, rounded to an even number).
	Width int `json:"width,omitempty"`
	// Height in pixels (even).
	Height int `json:"height"`
	// VideoBitrate is the target average video bit rate; it is also the VBV peak rate, with a
	// one-second buffer, so segments stay near it.
	VideoBitrate Bitrate `json:"video_bitrate"`
	// Codec defaults to H264; Profile to the codec's DefaultProfile.
	Codec   Codec   `json:"codec,omitempty"`
	Profile Profile `json:"profile,omitempty"`
	// AudioBitrate (AAC-LC) defaults to DefaultAudioBitrate; AudioChannels to
	// DefaultAudioChannels, or fewer when the master has fewer (Satchel never upmixes).
	AudioBitrate  Bitrate `json:"audio_bitrate,omitempty"`
	AudioChannels int     `json:"audio_channels,omitempty"`
	// NoAudio leaves the audio out of this rung.
	NoAudio bool `json:"no_audio,omitempty"`
}

// Ladder is an ordered list of rungs to encode from one master.
type Ladder struct {
	Name  string `json:"name,omitempty"`
	Rungs []Rung `json:"rungs"`
}

// LadderError is one invalid value in a ladder: Rung is the 1-based rung number (0 for the
// ladder as a whole), Field the rung field at fault.
type LadderError struct {
	Rung   int
	Field  string
	Reason string
}

func (e *LadderError) Error() string {
	if e.Rung == 0 {
		return "ladder: " + e.Reason
	}
	return fmt.Sprintf("ladder rung %d: %s: %s", e.Rung, e.Field, e.Reason)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks every rung and the ladder as a whole (at least one rung, at most MaxRungs,
// unique names, no two identical rungs). It returns the first problem as a *LadderError.
// Checks that need the master (upscaling, channel count) are made when the encode is planned.
func (l Ladder) Validate() error {
	if len(l.Rungs) == 0 {
		return &LadderError{Reason: "has no rungs; give at least one (a height and a video bit rate)"}
	}
	if len(l.Rungs) > MaxRungs {
		return &LadderError{Reason: fmt.Sprintf("has %d rungs; at most %d are supported", len(l.Rungs), MaxRungs)}
	}
	names := map[string]int{}
	shapes := map[string]int{}
	for i, r := range l.Rungs {
		if err := r.validate(i + 1); err != nil {
			return err
		}
		if r.Name != "" {
			if j, dup := names[strings.ToLower(r.Name)]; dup {
				return &LadderError{Rung: i + 1, Field: "name", Reason: fmt.Sprintf("%q is also the name of rung %d", r.Name, j)}
			}
			names[strings.ToLower(r.Name)] = i + 1
		}
		n := r.withDefaults()
		shape := fmt.Sprintf("%dx%d %d %s %s", n.Width, n.Height, n.VideoBitrate, n.Codec, n.Profile)
		if j, dup := shapes[shape]; dup {
			return &LadderError{Rung: i + 1, Field: "rung", Reason: fmt.Sprintf("same size, bit rate and codec as rung %d", j)}
		}
		shapes[shape] = i + 1
	}
	return nil
}

// Validate checks one rung on its own (as a ladder editor does for one row).
func (r Rung) Validate() error { return r.validate(1) }

func (r Rung) validate(n int) error {
	bad := func(field, format string, a ...any) error {
		return &LadderError{Rung: n, Field: field, Reason: fmt.Sprintf(format, a...)}
	}
	if r.Name != "" && !nameRE.MatchString(r.Name) {
		return bad("name", "%q: use up to 64 letters, digits, '.', '_' or '-'", r.Name)
	}
	if err := checkDimension(r.Height, maxHeight); err != "" {
		return bad("height", "%d: %s", r.Height, err)
	}
	if r.Width != 0 {
		if err := checkDimension(r.Width, maxWidth); err != "" {
			return bad("width", "%d: %s", r.Width, err)
		}
	}
	if r.VideoBitrate < MinVideoBitrate || r.VideoBitrate > MaxVideoBitrate {
		return bad("video bit rate", "%s b/s is outside %s–%s (bit rates are in bits per second: 3400k, not 3400)",
			r.VideoBitrate, MinVideoBitrate, MaxVideoBitrate)
	}
	codec := r.Codec
	if codec == "" {
		codec = H264
	}
	if !codec.Known() {
		return bad("codec", "%q: use h264, hevc or av1", r.Codec)
	}
	if r.Profile != "" && !r.Profile.validFor(codec) {
		return bad("profile", "%q is not offered for %s: use %s", r.Profile, codec, profileList(codec))
	}
	if r.NoAudio {
		return nil
	}
	if r.AudioBitrate != 0 && (r.AudioBitrate < MinAudioBitrate || r.AudioBitrate > MaxAudioBitrate) {
		return bad("audio bit rate", "%s b/s is outside %s–%s", r.AudioBitrate, MinAudioBitrate, MaxAudioBitrate)
	}
	switch r.AudioChannels {
	case 0, 1, 2, 6, 8:
	default:
		return bad("audio channels", "%d: use 1 (mono), 2 (stereo), 6 (5.1) or 8 (7.1)", r.AudioChannels)
	}
	return nil
}

func checkDimension(v, max int) string {
	switch {
	case v < minDimension || v > max:
		return fmt.Sprintf("use %d to %d pixels", minDimension, max)
	case v%2 != 0:
		return "must be even (4:2:0 video has chroma at half resolution)"
	}
	return ""
}

// withDefaults fills Codec, Profile and the audio defaults that need no master.
func (r Rung) withDefaults() Rung {
	if r.Codec == "" {
		r.Codec = H264
	}
	if r.Profile == "" {
		r.Profile = r.Codec.DefaultProfile()
	}
	if !r.NoAudio && r.AudioBitrate == 0 {
		r.AudioBitrate = DefaultAudioBitrate
	}
	return r
}

// WithCodec returns a copy of the ladder with every rung set to codec c and its default
// profile (how a user turns a preset into an HEVC or AV1 ladder).
func (l Ladder) WithCodec(c Codec) Ladder {
	out := Ladder{Name: l.Name, Rungs: append([]Rung(nil), l.Rungs...)}
	for i := range out.Rungs {
		out.Rungs[i].Codec = c
		out.Rungs[i].Profile = ""
		if out.Rungs[i].Name != "" && l.Rungs[i].Codec != c {
			out.Rungs[i].Name = ""
		}
	}
	return out
}

// defaultName is the rung name when none is given.
func (r Rung) defaultName() string {
	name := fmt.Sprintf("%dx%d_%dk", r.Width, r.Height, r.VideoBitrate.Kbps())
	if r.Codec != H264 && r.Codec != "" {
		name += "_" + string(r.Codec)
	}
	return name
}
