package encode

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseLadder: any bytes either fail to parse or give a valid ladder whose text form
// parses back to the same rungs.
func FuzzParseLadder(f *testing.F) {
	f.Add([]byte("ladder x\n1920x1080 6000k\n720p 3400k codec=hevc profile=main10 audio=96k channels=6 name=a\n"))
	f.Add([]byte(`{"name":"j","rungs":[{"height":720,"video_bitrate":"3400k","codec":"av1","no_audio":true}]}`))
	f.Add([]byte(`[{"width":640,"height":360,"video_bitrate":650000,"audio_channels":1}]`))
	f.Add([]byte("360 1.5M audio=none\n# c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLadder(data)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLadder returned an invalid ladder: %v", err)
		}
		var buf bytes.Buffer
		if err := l.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		again, err := ParseLadder(buf.Bytes())
		if err != nil {
			t.Fatalf("text form does not parse: %v\n%s", err, buf.String())
		}
		for i := range l.Rungs {
			if normalRung(l.Rungs[i]) != normalRung(again.Rungs[i]) {
				t.Fatalf("rung %d: %+v became %+v", i, l.Rungs[i], again.Rungs[i])
			}
		}
	})
}

func normalRung(r Rung) Rung {
	r = r.withDefaults()
	if r.NoAudio {
		r.AudioBitrate, r.AudioChannels = 0, 0
	}
	return r
}

// FuzzParseProbe: ffprobe's JSON about an untrusted file never panics the parser, and an
// accepted master is one Satchel can plan an encode for.
func FuzzParseProbe(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "ffprobe", "*.json"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"streams":[{"codec_type":"video","width":2,"height":2,"avg_frame_rate":"1/1",` +
		`"duration":"1"}],"format":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseProbe(data, "fuzz.mov")
		if err != nil {
			return
		}
		v := m.Video
		if v.Width <= 0 || v.Height <= 0 || v.FrameRate.Den <= 0 || v.FrameRate.Num <= 0 || m.Duration <= 0 {
			t.Fatalf("accepted an unusable master: %+v", m)
		}
		l := AutoLadder(m)
		if err := l.Validate(); err != nil && v.Width >= minDimension && v.Height >= minDimension {
			t.Fatalf("auto ladder for %dx%d: %v", v.Width, v.Height, err)
		}
		_ = m.Frames()
	})
}

// FuzzReadProgress: ffmpeg's progress stream never panics the reader or yields negative times.
func FuzzReadProgress(f *testing.F) {
	f.Add([]byte(progressSample))
	f.Add([]byte("out_time_us=9223372036854775807\nspeed=1e308x\nprogress=end\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = readProgress(bytes.NewReader(data), func(p ffProgress) {
			if p.OutTime < 0 || p.Frame < 0 || p.FPS < 0 || p.Speed < 0 || math.IsNaN(p.Speed) {
				t.Fatalf("bad progress %+v", p)
			}
			_ = eta(p.OutTime, 10e9, p.Speed)
		})
	})
}

// FuzzParseQualityLog: ffmpeg's log never panics the parser; accepted scores are finite and
// in range.
func FuzzParseQualityLog(f *testing.F) {
	f.Add([]byte(qualityLog), uint8(2))
	f.Add([]byte("[psnr@q0 @ 0x0] PSNR average:1e999\n[ssim@q0 @ 0x0] SSIM All:0.5 (3)\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		q, err := parseQualityLog(data, int(n%8))
		if err != nil {
			return
		}
		for _, r := range q {
			if r.PSNR < 0 || r.PSNR > maxPSNR || math.IsNaN(r.SSIM) || math.IsInf(r.SSIM, 0) ||
				(r.VMAF != nil && (math.IsNaN(*r.VMAF) || math.IsInf(*r.VMAF, 0))) {
				t.Fatalf("bad quality %+v", r)
			}
		}
	})
}
