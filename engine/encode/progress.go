package encode

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Phase is what a rung's progress event is about.
type Phase string

// The phases a rung goes through.
const (
	PhaseEncode  Phase = "encode"  // ffmpeg is encoding it
	PhaseCached  Phase = "cached"  // a finished output with the same settings was reused
	PhaseQuality Phase = "quality" // PSNR/SSIM(/VMAF) against the master is being measured
	PhaseDone    Phase = "done"    // the rung's file is final (renamed into place, checked)
)

// Progress is one progress event for one rung. Encode calls its progress callback from one
// goroutine at a time, in order for each rung.
type Progress struct {
	Rung  int    `json:"rung"` // 0-based index in the ladder
	Name  string `json:"name"`
	Phase Phase  `json:"phase"`
	// PID is the ffmpeg process doing the work (0 when none is): the cancellation contract is
	// that no such process outlives Encode.
	PID         int           `json:"pid,omitempty"`
	Frame       int64         `json:"frame"`
	TotalFrames int64         `json:"total_frames"`
	OutTime     time.Duration `json:"out_time_ns"` // media time encoded so far
	Duration    time.Duration `json:"duration_ns"` // media time to encode
	FPS         float64       `json:"fps"`         // frames per second, as ffmpeg reports it
	Speed       float64       `json:"speed"`       // media seconds per wall second
	ETA         time.Duration `json:"eta_ns"`      // at the current speed; 0 when unknown
	Done        bool          `json:"done"`
}

// Fraction is the share of the rung's current phase that is done, 0 to 1.
func (p Progress) Fraction() float64 {
	switch {
	case p.Done || p.Phase == PhaseCached || p.Phase == PhaseDone:
		return 1
	case p.Duration <= 0:
		return 0
	}
	return math.Min(1, math.Max(0, float64(p.OutTime)/float64(p.Duration)))
}

// ffProgress is one block of ffmpeg's -progress output.
type ffProgress struct {
	Frame   int64
	FPS     float64
	OutTime time.Duration
	Speed   float64
	Size    int64
	End     bool
}

// maxProgressLine bounds one line of -progress output (real lines are under 100 bytes).
const maxProgressLine = 4096

// readProgress parses ffmpeg's -progress stream (key=value lines; each block ends with
// progress=continue or progress=end) and calls fn once per block. A value that is not a
// number ("N/A", negative) keeps the previous block's value; unknown keys and malformed lines
// are ignored. It returns when r ends.
func readProgress(r io.Reader, fn func(ffProgress)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxProgressLine)
	var cur ffProgress
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "frame":
			setInt(&cur.Frame, val)
		case "fps":
			setFloat(&cur.FPS, val)
		case "out_time_us", "out_time_ms": // both are microseconds (a historical misnomer)
			var us int64
			if setInt(&us, val) && us < math.MaxInt64/1000 {
				cur.OutTime = time.Duration(us) * time.Microsecond
			}
		case "total_size":
			setInt(&cur.Size, val)
		case "speed":
			setFloat(&cur.Speed, strings.TrimSuffix(val, "x"))
		case "progress":
			cur.End = val == "end"
			fn(cur)
		}
	}
	if err := sc.Err(); err != nil {
		// An over-long line is not worth failing an encode for; drain the rest.
		_, _ = io.Copy(io.Discard, r)
		return err
	}
	return nil
}

func setInt(dst *int64, s string) bool {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return false
	}
	*dst = v
	return true
}

func setFloat(dst *float64, s string) bool {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	*dst = v
	return true
}

// eta estimates the time left from the media time left and the current speed.
func eta(done, total time.Duration, speed float64) time.Duration {
	if speed <= 0 || total <= done {
		return 0
	}
	s := float64(total-done) / speed
	if s > float64(1000*time.Hour) {
		return 0
	}
	return time.Duration(s)
}
