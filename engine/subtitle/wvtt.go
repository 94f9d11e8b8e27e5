package subtitle

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/internal/mp4safe"
)

// Sample is one wvtt sample: its duration (in the track timescale) and its boxes.
type Sample struct {
	Dur  uint32
	Data []byte
}

// WvttEntry returns the wvtt sample entry of a WebVTT-in-MP4 track (ISO/IEC 14496-30 7.5)
// with the mandatory WEBVTT configuration.
func WvttEntry() *mp4.WvttBox {
	e := mp4.NewWvttBox()
	e.AddChild(&mp4.VttCBox{Config: "WEBVTT"})
	return e
}

// WvttSamples cuts [from, to) into wvtt samples (ISO/IEC 14496-30 7.4): a new sample starts
// wherever a cue starts or ends, each holds one vttc box per cue then shown (payload,
// settings, identifier), and gaps hold an empty vtte box. Times are rounded to the timescale
// once, so the durations add up to exactly the segment.
func WvttSamples(cues []Cue, from, to time.Duration, timescale uint32) ([]Sample, error) {
	var out []Sample
	for _, iv := range intervals(cues, from, to, timescale) {
		var boxes []mp4.Box
		for _, c := range iv.cues {
			boxes = append(boxes, vttc(c))
		}
		if len(boxes) == 0 {
			boxes = append(boxes, &mp4.VtteBox{})
		}
		var buf bytes.Buffer
		for _, bx := range boxes {
			if err := bx.Encode(&buf); err != nil {
				return nil, fmt.Errorf("encode wvtt sample: %w", err)
			}
		}
		out = append(out, Sample{Dur: iv.dur, Data: buf.Bytes()})
	}
	return out, nil
}

// interval is a stretch of time during which the same cues are shown.
type interval struct {
	dur  uint32
	cues []Cue
}

// intervals splits [from, to) wherever a cue starts or ends (times rounded to the timescale
// once, so the durations add up to exactly the span).
func intervals(cues []Cue, from, to time.Duration, timescale uint32) []interval {
	tick := func(d time.Duration) uint64 {
		return uint64((d*time.Duration(timescale) + time.Second/2) / time.Second)
	}
	bounds := []uint64{tick(from), tick(to)}
	active := Overlapping(cues, from, to)
	for _, c := range active {
		for _, t := range []time.Duration{c.Start, c.End} {
			if t > from && t < to {
				bounds = append(bounds, tick(t))
			}
		}
	}
	bounds = sortedUnique(bounds)
	var out []interval
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		iv := interval{dur: uint32(b - a)}
		for _, c := range active {
			if tick(c.Start) <= a && tick(c.End) >= b {
				iv.cues = append(iv.cues, c)
			}
		}
		out = append(out, iv)
	}
	return out
}

func vttc(c Cue) *mp4.VttcBox {
	b := &mp4.VttcBox{}
	if c.ID != "" {
		b.AddChild(&mp4.IdenBox{CueID: c.ID})
	}
	if c.Settings != "" {
		b.AddChild(&mp4.SttgBox{Settings: c.Settings})
	}
	b.AddChild(&mp4.PaylBox{CueText: c.Text})
	return b
}

func sortedUnique(v []uint64) []uint64 {
	for i := 1; i < len(v); i++ { // insertion sort: a handful of values
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	out := v[:0]
	for i, x := range v {
		if i == 0 || x != v[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// WvttCues decodes one wvtt sample shown from start to end into its cues (vttc boxes; vtte
// and vtta hold none).
func WvttCues(sample []byte, start, end time.Duration) ([]Cue, error) {
	var cues []Cue
	r := bytes.NewReader(sample)
	for r.Len() > 0 {
		var box mp4.Box
		pos := uint64(len(sample) - r.Len())
		err := mp4safe.Do(func() error {
			var derr error
			box, derr = mp4.DecodeBox(pos, r)
			return derr
		})
		if err != nil {
			return nil, fmt.Errorf("wvtt sample: %w", err)
		}
		v, ok := box.(*mp4.VttcBox)
		if !ok {
			continue
		}
		c := Cue{Start: start, End: end}
		if v.Payl != nil {
			c.Text = cleanText(v.Payl.CueText)
		}
		if v.Sttg != nil {
			c.Settings = v.Sttg.Settings
		}
		if v.Iden != nil {
			c.ID = v.Iden.CueID
		}
		if c.Text != "" {
			cues = append(cues, c)
		}
	}
	return cues, nil
}

// Merge joins cues that continue each other (same identifier, settings and text, the second
// starting where the first ends): wvtt splits a cue at every change of what is shown.
func Merge(cues []Cue) []Cue {
	var out []Cue
	for _, c := range cues {
		merged := false
		for i := len(out) - 1; i >= 0 && out[i].End >= c.Start; i-- {
			if p := &out[i]; p.End == c.Start && p.Text == c.Text && p.Settings == c.Settings && p.ID == c.ID {
				p.End = c.End
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, c)
		}
	}
	return out
}

// ErrEmpty says a subtitle source holds no cues.
var ErrEmpty = errors.New("holds no subtitle cues")
