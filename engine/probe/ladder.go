package probe

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// alignTolerance absorbs timescale rounding between renditions (one 90 kHz tick is 11 µs;
// half a frame at 60 fps is 8 ms).
const alignTolerance = 5 * time.Millisecond

// MisalignedError says that a rung's sync samples (GOP starts) differ from the reference
// rung, so segments could not be cut at the same times in every rendition.
type MisalignedError struct {
	Rung          string        // path of the misaligned rendition
	Reference     string        // path of the reference (first) rendition
	FirstMismatch time.Duration // the first sync time present in one but not the other
	Message       string
}

func (e *MisalignedError) Error() string { return e.Message }

// DurationMismatchError says that a rendition's duration differs from the reference
// rendition's by more than a GOP (the shortest segment packaging can cut): the ladder was
// not made from one master, and players switching renditions would jump or stall.
type DurationMismatchError struct {
	Rung, Reference           string        // paths
	RungDuration, RefDuration time.Duration // video durations
	Tolerance                 time.Duration // the longest GOP of either rendition
}

func (e *DurationMismatchError) Error() string {
	return fmt.Sprintf("%s lasts %s but %s lasts %s: renditions differ by more than a segment (%s); encode every rendition from the same master",
		filepath.Base(e.Rung), fmtSeconds(e.RungDuration), filepath.Base(e.Reference), fmtSeconds(e.RefDuration), fmtSeconds(e.Tolerance))
}

// CheckLadder checks that every rendition has video, lasts as long as the first one (within
// its longest GOP) and has the same sync-sample times (within a few milliseconds). It returns
// nil, a *DurationMismatchError, a *MisalignedError naming the rung and the first mismatching
// time, or an *InputError.
func CheckLadder(assets []*Asset) error {
	if len(assets) == 0 {
		return nil
	}
	for _, a := range assets {
		if err := a.RequireVideo(); err != nil {
			return err
		}
	}
	ref := assets[0]
	rv := ref.Video()
	for _, a := range assets[1:] {
		v := a.Video()
		tol := max(longestGOP(rv), longestGOP(v), 500*time.Millisecond)
		if absDur(v.Duration-rv.Duration) > tol {
			return &DurationMismatchError{Rung: a.Path, Reference: ref.Path, RungDuration: v.Duration, RefDuration: rv.Duration, Tolerance: tol}
		}
		limit := rv.Duration
		if v.Duration < limit {
			limit = v.Duration
		}
		if t, bad := firstMismatch(rv.SyncTimes, v.SyncTimes, limit); bad {
			return &MisalignedError{Rung: a.Path, Reference: ref.Path, FirstMismatch: t,
				Message: fmt.Sprintf("%s is not GOP-aligned with %s: first mismatching sync sample at %s; re-encode the ladder with the same fixed GOP (e.g. ffmpeg -g 48 -keyint_min 48 -sc_threshold 0)",
					filepath.Base(a.Path), filepath.Base(ref.Path), fmtSeconds(t))}
		}
	}
	return nil
}

// longestGOP is the longest interval between sync samples, the last GOP included.
func longestGOP(t *Track) time.Duration {
	var longest time.Duration
	for i, s := range t.SyncTimes {
		end := t.Duration
		if i+1 < len(t.SyncTimes) {
			end = t.SyncTimes[i+1]
		}
		longest = max(longest, end-s)
	}
	return longest
}

func firstMismatch(a, b []time.Duration, limit time.Duration) (time.Duration, bool) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var ta, tb time.Duration = -1, -1
		if i < len(a) {
			ta = a[i]
		}
		if j < len(b) {
			tb = b[j]
		}
		switch {
		case ta >= 0 && tb >= 0 && absDur(ta-tb) <= alignTolerance:
			i++
			j++
			continue
		case tb < 0 || (ta >= 0 && ta < tb):
			if ta < limit-alignTolerance {
				return ta, true
			}
			i++
		default:
			if tb < limit-alignTolerance {
				return tb, true
			}
			j++
		}
	}
	return 0, false
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.3gs", d.Seconds()) }

// WriteText prints a human summary of the asset.
func (a *Asset) WriteText(w io.Writer) {
	kind := "progressive"
	if a.Fragmented {
		kind = "fragmented"
	}
	fmt.Fprintf(w, "%s  (%s MP4, %s, %.2fs, %d kb/s)\n", a.Path, kind, humanSize(a.Size), a.Duration.Seconds(), a.Bitrate/1000)
	for _, t := range a.Tracks {
		enc := ""
		if t.Encrypted {
			enc = fmt.Sprintf("  encrypted (%s)", t.Scheme)
		}
		lang := t.Language
		if lang == "" {
			lang = "und"
		}
		switch {
		case t.Unsupported != "":
			what := string(t.Kind)
			if what == "" {
				what = t.Handler
			}
			fmt.Fprintf(w, "  track %d %s %s: not packaged: %s\n", t.ID, what, t.Codec, t.Unsupported)
		case t.Kind == "video":
			fmt.Fprintf(w, "  track %d video %-22s %dx%d  %.3g fps  %d kb/s  %d samples  %.2fs%s\n", t.ID, t.Codec, t.Width, t.Height, t.FrameRate, t.Bitrate/1000, t.SampleCount, t.Duration.Seconds(), enc)
			fmt.Fprintf(w, "    sync samples (%d): %s\n", len(t.SyncTimes), syncList(t.SyncTimes))
		case t.Kind == "text":
			fmt.Fprintf(w, "  track %d text  %-22s %d cues/samples  %.2fs  lang %s%s\n", t.ID, t.Codec, t.SampleCount, t.Duration.Seconds(), lang, flagText(t.Forced, "  forced"))
		default:
			fmt.Fprintf(w, "  track %d audio %-22s %d Hz  %d ch  %d kb/s  %d samples  %.2fs  lang %s%s%s\n", t.ID, t.Codec, t.SampleRate, t.Channels, t.Bitrate/1000, t.SampleCount, t.Duration.Seconds(), lang, flagText(t.Default, "  default"), enc)
		}
		if t.Edit != nil && (t.Edit.MediaTime != 0 || t.Edit.Delay != 0) {
			fmt.Fprintf(w, "    edit list: starts at media time %d (%.3fs), delay %s\n", t.Edit.MediaTime, float64(t.Edit.MediaTime)/float64(max(t.Timescale, 1)), t.Edit.Delay)
		}
	}
}

func flagText(on bool, text string) string {
	if on {
		return text
	}
	return ""
}

func syncList(ts []time.Duration) string {
	var parts []string
	for i, t := range ts {
		if i == 12 {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(ts)-12))
			break
		}
		parts = append(parts, fmtSeconds(t))
	}
	return strings.Join(parts, " ")
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
