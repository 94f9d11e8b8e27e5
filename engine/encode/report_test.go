package encode

import (
	"strings"
	"testing"
	"time"
)

func TestQualityTableAndText(t *testing.T) {
	vmaf := 91.5
	res := &Result{SegmentDuration: 4004 * time.Millisecond, GOPFrames: 96, FrameRate: Rational{24000, 1001},
		QualityNote: NoVMAFReason, Warnings: []string{"something"}, Rungs: []RungResult{
			{Rung: Rung{Name: "hi", Width: 1280, Height: 720, VideoBitrate: 3_000_000, Codec: H264, Profile: ProfileHigh},
				Path: "out/m_hi.mp4", VideoBitrate: 2_950_000, Quality: &Quality{PSNR: 41.5, SSIM: 0.98, VMAF: &vmaf}},
			{Rung: Rung{Name: "lo", Width: 640, Height: 360, VideoBitrate: 800_000, Codec: H264, Profile: ProfileHigh},
				Path: "out/m_lo.mp4", VideoBitrate: 790_000, Cached: true, Quality: &Quality{PSNR: 38.1, SSIM: 0.95}},
			{Rung: Rung{Name: "unmeasured", Width: 320, Height: 180, VideoBitrate: 300_000}, Path: "out/m_u.mp4"},
		}}
	pts := res.QualityTable()
	if len(pts) != 2 || pts[0].Rung != "lo" || pts[1].Rung != "hi" || pts[1].VMAF == nil {
		t.Fatalf("QualityTable = %+v, want lo then hi", pts)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RUNG", "hi ", "1280x720", "3000 kb/s", "2950 kb/s", "41.50 dB", "0.9800", "91.5",
		"m_lo.mp4 (reused)", "4.004s (96 frames at 24000/1001 fps)", "VMAF not measured", "warning: something"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}
