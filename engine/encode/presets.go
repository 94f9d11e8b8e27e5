package encode

import (
	"fmt"
	"math"
	"strings"
)

// Preset names a built-in ladder, modelled on Azure Media Services' built-in encoder presets
// (the AMS offline-DRM flow started by encoding the source with one of them).
type Preset string

// The presets.
const (
	// PresetAuto derives the ladder from the master, like AMS "AdaptiveStreaming": never above
	// the master's resolution or video bit rate. See AutoLadder.
	PresetAuto Preset = "auto"
	// Preset1080p is AMS "H264MultipleBitrate1080p": 8 rungs, 6000 to 400 kb/s, 1080p to 180p.
	Preset1080p Preset = "1080p"
	// Preset720p is AMS "H264MultipleBitrate720p": 6 rungs, 3400 to 400 kb/s, 720p to 180p.
	Preset720p Preset = "720p"
	// PresetSD is AMS "H264MultipleBitrateSD" (the 16:9 SD table): 5 rungs, 1900 to 400 kb/s,
	// 480p to 240p.
	PresetSD Preset = "sd"
)

// Presets lists every preset, the default (PresetAuto) first.
var Presets = []Preset{PresetAuto, Preset1080p, Preset720p, PresetSD}

// ParsePreset parses a preset name (case-insensitive); the AMS names (AdaptiveStreaming,
// H264MultipleBitrate1080p, …720p, …SD) are accepted too.
func ParsePreset(s string) (Preset, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "adaptive", "adaptivestreaming":
		return PresetAuto, nil
	case "1080p", "h264multiplebitrate1080p":
		return Preset1080p, nil
	case "720p", "h264multiplebitrate720p":
		return Preset720p, nil
	case "sd", "h264multiplebitratesd":
		return PresetSD, nil
	}
	return "", fmt.Errorf("unknown ladder preset %q: use auto, 1080p, 720p or sd", s)
}

// presetRung is one row of an AMS preset table: frame height and video kb/s. AMS gives a width
// too (for 16:9); Satchel derives it from the master's aspect ratio so that 4:3 or scope
// masters are not distorted.
type presetRung struct{ height, kbps int }

// The AMS Media Encoder Standard preset tables, layer by layer (Bitrate = MaxBitrate, 2 s
// keyframe interval, AAC-LC stereo 128 kb/s), from Microsoft's preset documentation:
// "H264 Multiple Bitrate 1080p", "H264 Multiple Bitrate 720p" and "H264 Multiple Bitrate 16x9
// SD" (learn.microsoft.com, previous-versions/media-services/previous/
// media-services-mes-preset-H264-Multiple-Bitrate-{1080p,720p,16x9-SD}); AMS v3's
// H264MultipleBitrate{1080p,720p,SD} named presets describe the same ladders.
var presetTables = map[Preset][]presetRung{
	Preset1080p: {{1080, 6000}, {1080, 4700}, {720, 3400}, {540, 2250}, {540, 1500}, {360, 1000}, {360, 650}, {180, 400}},
	Preset720p:  {{720, 3400}, {540, 2250}, {540, 1500}, {360, 1000}, {360, 650}, {180, 400}},
	PresetSD:    {{480, 1900}, {480, 1300}, {360, 900}, {360, 650}, {240, 400}},
}

// adaptiveBase is the ladder AMS "AdaptiveStreaming" produced for a 1080p 29.97 fps source
// ("Encode with an auto-generated bitrate ladder", learn.microsoft.com/azure/media-services/
// latest/encode-autogen-bitrate-ladder, Example 1). The same page's 720p 23.97 fps example is
// this table times (23.97/29.97)^0.8 to within 10 kb/s on every rung, which is how AutoLadder
// scales it for other frame rates; its 360p example is the 360p-and-below rows scaled down
// together, which is how AutoLadder caps the ladder at the master's bit rate.
var adaptiveBase = []presetRung{{1080, 6780}, {720, 3520}, {540, 2210}, {360, 1150}, {270, 720}, {180, 380}}

// PresetLadder returns the ladder of a preset. PresetAuto needs the master (AutoLadder); the
// fixed presets ignore it, and keep every rung: planning the encode refuses rungs larger than
// the master (an *UpscaleError) rather than dropping them silently.
func PresetLadder(p Preset, m *Master) (Ladder, error) {
	if p == PresetAuto {
		if m == nil {
			return Ladder{}, fmt.Errorf("the auto ladder is derived from the master: probe it first")
		}
		return AutoLadder(m), nil
	}
	table, ok := presetTables[p]
	if !ok {
		return Ladder{}, fmt.Errorf("unknown ladder preset %q: use auto, 1080p, 720p or sd", p)
	}
	l := Ladder{Name: string(p)}
	for _, t := range table {
		l.Rungs = append(l.Rungs, Rung{Height: t.height, VideoBitrate: Bitrate(t.kbps * 1000)})
	}
	return l, nil
}

// AutoLadder derives a ladder from the master the way AMS "AdaptiveStreaming" does: the rungs
// of adaptiveBase whose frame height (the short side, for portrait video) fits the master,
// bit rates scaled by (fps/29.97)^0.8 for the master's frame rate, then all scaled down
// together if the top rung would exceed the master's video bit rate. It never upscales and
// never exceeds the master's bit rate; rungs that would fall below MinVideoBitrate are dropped
// (at least one rung is kept). A master smaller than 180 lines gets one rung at its own size.
func AutoLadder(m *Master) Ladder {
	fps := m.Video.FrameRate.Float()
	if fps <= 0 {
		fps = 29.97
	}
	fpsScale := math.Pow(fps/29.97, 0.8)
	short := min(m.Video.Width, m.Video.Height)
	type row struct {
		short int
		bps   float64
	}
	var rows []row
	for _, b := range adaptiveBase {
		if b.height <= short {
			rows = append(rows, row{b.height, float64(b.kbps) * 1000 * fpsScale})
		}
	}
	if len(rows) == 0 {
		area := float64(m.Video.Width * m.Video.Height)
		rows = append(rows, row{even(short), 380_000 * fpsScale * area / (320 * 180)})
	}
	if vb := float64(m.Video.Bitrate); vb > 0 && rows[0].bps > vb {
		f := vb / rows[0].bps
		for i := range rows {
			rows[i].bps *= f
		}
	}
	l := Ladder{Name: string(PresetAuto)}
	for i, r := range rows {
		kbps := math.Floor(r.bps/10_000) * 10 // whole tens of kb/s, as AMS reports them
		if Bitrate(kbps*1000) < MinVideoBitrate && i > 0 {
			break
		}
		w, h := m.sizeForShortSide(r.short)
		l.Rungs = append(l.Rungs, Rung{Width: w, Height: h, VideoBitrate: max(Bitrate(kbps*1000), MinVideoBitrate)})
	}
	return l
}

func even(v int) int { return int(math.Round(float64(v)/2)) * 2 }
