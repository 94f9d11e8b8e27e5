package encode

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Quality is how close a rung is to the master scaled to the rung's size, over every frame.
type Quality struct {
	// PSNR is ffmpeg's psnr filter "average": the mean over Y, U and V weighted by plane size,
	// in dB (capped at 100 for identical pictures).
	PSNR float64 `json:"psnr"`
	// SSIM is ffmpeg's ssim filter "All" index, 0 to 1 (1: identical).
	SSIM float64 `json:"ssim"`
	// VMAF is the libvmaf score (0 to 100) with the rung upscaled to the master's size, as
	// VMAF's default model expects; nil when the installed ffmpeg has no libvmaf.
	VMAF *float64 `json:"vmaf,omitempty"`
}

// maxPSNR stands in for ffmpeg's "inf" (identical pictures), which JSON cannot carry.
const maxPSNR = 100

// qualityCommand measures every output in one ffmpeg: the master is decoded once, conditioned
// exactly as for encoding (deinterlace, frame rate), scaled to each rung with the same scaler
// and compared with the decoded rung.
func (s *settings) qualityCommand(outs []output, vmaf bool) Command {
	build := func(progress, final bool) []string {
		args := []string{"-hide_banner", "-nostdin", "-v", "info"}
		if progress {
			args = append(args, "-progress", "pipe:1", "-nostats")
		}
		args = append(args, "-i", fileArg(s.master.Path))
		for _, o := range outs {
			args = append(args, "-i", fileArg(o.path))
		}
		return append(args, "-filter_complex", s.qualityGraph(outs, vmaf), "-f", "null", "-")
	}
	return s.command(PurposeQuality, outs, build)
}

func (s *settings) qualityGraph(outs []output, vmaf bool) string {
	var b strings.Builder
	b.WriteString(s.videoInput() + s.preFilter())
	if len(outs) > 1 {
		fmt.Fprintf(&b, ",split=%d", len(outs))
	}
	for i := range outs {
		fmt.Fprintf(&b, "[m%d]", i)
	}
	n := 2
	if vmaf {
		n = 3
	}
	for i, o := range outs {
		pix := o.rung.Profile.pixelFormat()
		ref := fmt.Sprintf("[m%d]", i)
		if vmaf {
			fmt.Fprintf(&b, ";[m%d]split=2[ms%d][mv%d];[mv%d]format=%s[rv%d]", i, i, i, i, pix, i)
			ref = fmt.Sprintf("[ms%d]", i)
		}
		fmt.Fprintf(&b, ";%s%s,split=2[ra%d][rb%d]", ref, rungFilter(o.rung), i, i)
		fmt.Fprintf(&b, ";[%d:v:0]format=%s,setsar=1,split=%d[da%d][db%d]", i+1, pix, n, i, i)
		if vmaf {
			fmt.Fprintf(&b, "[dv%d]", i)
		}
		fmt.Fprintf(&b, ";[da%d][ra%d]psnr@q%d;[db%d][rb%d]ssim@q%d", i, i, i, i, i, i)
		if vmaf {
			fmt.Fprintf(&b, ";[dv%d]scale=%d:%d:flags=bicubic,setsar=1[uv%d];[uv%d][rv%d]libvmaf@q%d=n_threads=%d",
				i, s.master.Video.Width, s.master.Video.Height, i, i, i, i, max(1, s.threads))
		}
	}
	return b.String()
}

var (
	psnrRE = regexp.MustCompile(`^\[psnr@q(\d+) @ [^\]]*\] PSNR .*\baverage:(inf|[0-9.]+)`)
	ssimRE = regexp.MustCompile(`^\[ssim@q(\d+) @ [^\]]*\] SSIM .*\bAll:([0-9.]+)`)
	vmafRE = regexp.MustCompile(`^\[libvmaf@q(\d+) @ [^\]]*\] VMAF score: ([0-9.]+)`)
)

// parseQualityLog reads the summary lines the psnr, ssim and libvmaf filters log at the end
// of a quality command (filter instances are named q<i> for output i). n is the number of
// outputs; lines naming other indexes are ignored. An output missing PSNR or SSIM is an error.
func parseQualityLog(log []byte, n int) ([]Quality, error) {
	q := make([]Quality, n)
	got := make([][2]bool, n)
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, re := range []*regexp.Regexp{psnrRE, ssimRE, vmafRE} {
			m := re.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			i, err := strconv.Atoi(m[1])
			if err != nil || i < 0 || i >= n {
				continue
			}
			v := maxPSNR * 1.0
			if m[2] != "inf" {
				if v, err = strconv.ParseFloat(m[2], 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
			}
			switch re {
			case psnrRE:
				q[i].PSNR, got[i][0] = math.Min(v, maxPSNR), true
			case ssimRE:
				q[i].SSIM, got[i][1] = v, true
			default:
				vm := v
				q[i].VMAF = &vm
			}
		}
	}
	for i, g := range got {
		if !g[0] || !g[1] {
			return nil, fmt.Errorf("ffmpeg reported no PSNR/SSIM for rung %d", i+1)
		}
	}
	return q, nil
}
