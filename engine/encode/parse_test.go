package encode

import (
	"strings"
	"testing"
	"time"
)

// progressSample is ffmpeg 5.1's -progress output for a 3-output encode, cut to two blocks.
const progressSample = `frame=81
fps=26.34
stream_0_0_q=29.0
stream_1_0_q=27.0
bitrate= 606.9kbits/s
total_size=262192
out_time_us=3456000
out_time_ms=3456000
out_time=00:00:03.456000
dup_frames=0
drop_frames=0
speed=1.12x
progress=continue
frame=96
fps=29.37
out_time_us=-9223372036854775807
out_time=N/A
speed=N/A
progress=end
`

func TestReadProgress(t *testing.T) {
	var got []ffProgress
	if err := readProgress(strings.NewReader(progressSample), func(p ffProgress) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	want := []ffProgress{
		{Frame: 81, FPS: 26.34, OutTime: 3456 * time.Millisecond, Speed: 1.12, Size: 262192},
		{Frame: 96, FPS: 29.37, OutTime: 3456 * time.Millisecond, Speed: 1.12, Size: 262192, End: true}, // N/A keeps
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if e := eta(2*time.Second, 10*time.Second, 2); e != 4*time.Second {
		t.Errorf("eta = %s", e)
	}
	if e := eta(2*time.Second, 10*time.Second, 0); e != 0 {
		t.Errorf("eta without speed = %s", e)
	}
	p := Progress{OutTime: 5 * time.Second, Duration: 10 * time.Second}
	if f := p.Fraction(); f != 0.5 {
		t.Errorf("Fraction = %v", f)
	}
}

// qualityLog is what ffmpeg 5.1 prints at the end of a quality command for two rungs (plus a
// VMAF line as libvmaf builds print it, and noise).
const qualityLog = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'master.mp4':
  Duration: 00:00:04.00, start: 0.000000, bitrate: 20891 kb/s
[ssim@q1 @ 0x5596792eaf00] SSIM Y:0.991481 (20.696287) U:0.988773 (19.497495) All:0.990726 (20.327127)
[psnr@q1 @ 0x5596792ea700] PSNR y:44.173747 u:42.164900 v:41.607614 average:43.266647 min:42.405181 max:46.379454
[ssim@q0 @ 0x5596792e5380] SSIM Y:0.993353 (21.773678) U:0.991983 (20.959751) All:0.993101 (21.612123)
[psnr@q0 @ 0x5596792e84c0] PSNR y:inf u:inf v:inf average:inf min:inf max:inf
[libvmaf@q1 @ 0x5596792e84c0] VMAF score: 93.512000
[psnr@q7 @ 0x1] PSNR y:1 u:1 v:1 average:1.0 min:1 max:1
`

func TestParseQualityLog(t *testing.T) {
	q, err := parseQualityLog([]byte(qualityLog), 2)
	if err != nil {
		t.Fatal(err)
	}
	if q[0].PSNR != maxPSNR || q[0].SSIM != 0.993101 || q[0].VMAF != nil {
		t.Errorf("rung 0: %+v", q[0])
	}
	if q[1].PSNR != 43.266647 || q[1].SSIM != 0.990726 || q[1].VMAF == nil || *q[1].VMAF != 93.512 {
		t.Errorf("rung 1: %+v", q[1])
	}
	if _, err := parseQualityLog([]byte(qualityLog), 3); err == nil {
		t.Error("a missing rung was not reported")
	}
}
