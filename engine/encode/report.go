package encode

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// QualityPoint is one rung on a bit rate versus quality chart.
type QualityPoint struct {
	Rung          string   `json:"rung"`
	Width         int      `json:"width"`
	Height        int      `json:"height"`
	Codec         Codec    `json:"codec"`
	TargetBitrate Bitrate  `json:"target_bitrate"`
	VideoBitrate  int64    `json:"video_bitrate"` // measured, b/s: the chart's x axis
	PSNR          float64  `json:"psnr"`
	SSIM          float64  `json:"ssim"`
	VMAF          *float64 `json:"vmaf,omitempty"`
}

// QualityTable lists the rungs whose quality was measured, by measured video bit rate
// (lowest first): one point per rung for a chart, where a rung that costs bits without
// raising quality over the one below it stands out.
func (r *Result) QualityTable() []QualityPoint {
	var pts []QualityPoint
	for _, rr := range r.Rungs {
		if rr.Quality == nil {
			continue
		}
		pts = append(pts, QualityPoint{Rung: rr.Rung.Name, Width: rr.Rung.Width, Height: rr.Rung.Height,
			Codec: rr.Rung.Codec, TargetBitrate: rr.Rung.VideoBitrate, VideoBitrate: rr.VideoBitrate,
			PSNR: rr.Quality.PSNR, SSIM: rr.Quality.SSIM, VMAF: rr.Quality.VMAF})
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].VideoBitrate < pts[j].VideoBitrate })
	return pts
}

// WriteText prints the finished ladder as a table (rung, size, codec, target and measured
// bit rate, quality when measured, file), then the segment duration to package with, the
// quality note and the warnings.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUNG\tSIZE\tCODEC\tTARGET\tACTUAL\tPSNR\tSSIM\tVMAF\tFILE")
	for _, rr := range r.Rungs {
		psnr, ssim, vmaf := "-", "-", "-"
		if q := rr.Quality; q != nil {
			psnr, ssim = fmt.Sprintf("%.2f dB", q.PSNR), fmt.Sprintf("%.4f", q.SSIM)
			if q.VMAF != nil {
				vmaf = fmt.Sprintf("%.1f", *q.VMAF)
			}
		}
		file := filepath.Base(rr.Path)
		if rr.Cached {
			file += " (reused)"
		}
		fmt.Fprintf(tw, "%s\t%dx%d\t%s %s\t%d kb/s\t%d kb/s\t%s\t%s\t%s\t%s\n", rr.Rung.Name, rr.Rung.Width,
			rr.Rung.Height, rr.Rung.Codec, rr.Rung.Profile, rr.Rung.VideoBitrate.Kbps(), (rr.VideoBitrate+500)/1000,
			psnr, ssim, vmaf, file)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "segments: %s (%d frames at %s fps); package with this segment duration\n",
		r.SegmentDuration, r.GOPFrames, r.FrameRate)
	if r.QualityNote != "" {
		b.WriteString(r.QualityNote + "\n")
	}
	for _, warn := range r.Warnings {
		b.WriteString("warning: " + warn + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
