package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"satchel/app/jobs"
	"satchel/engine/encode"
	"satchel/internal/testmedia"
)

// encodeTab shows the Assets screen's encoder with the 1080p test master probed.
func encodeTab(t *testing.T) (*App, *encodeView) {
	t.Helper()
	a := newTestApp(t)
	a.Show(ScreenAssets)
	a.assets.tabs.Select(a.assets.encTab)
	v := a.assets.enc
	probed := make(chan error, 1)
	v.onMaster = func(err error) { probed <- err }
	v.setMaster(testmedia.Master(t))
	if err := wait(t, probed, "the master probe"); err != nil {
		t.Fatal(err)
	}
	v.onMaster = nil
	return a, v
}

// waitCommands waits until the command preview shows want.
func waitCommands(t *testing.T, v *encodeView, want string) {
	t.Helper()
	planned := make(chan error, 16)
	v.onPlanned = func(err error) {
		select {
		case planned <- err:
		default:
		}
	}
	defer func() { v.onPlanned = nil }()
	v.replan()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(v.commands.Text, want) {
		select {
		case <-planned:
		case <-deadline:
			t.Fatalf("the command preview never showed %q: %q", want, v.commands.Text)
		}
	}
}

// TestLadderEditor: presets fill the rows (auto from the master), every row is checked as it
// is typed and explains its problem underneath (never upscale, never above the master's bit
// rate), rows are added and removed, the codec offers its profiles, the exact command lines
// follow the rows, and a bad row starts nothing.
func TestLadderEditor(t *testing.T) {
	_, v := encodeTab(t)
	if !strings.Contains(v.masterInfo.Text, "1920×1080") || !strings.Contains(v.masterInfo.Text, "audio aac 2 ch") {
		t.Errorf("master summary %q", v.masterInfo.Text)
	}
	rows := v.editor.rows
	if len(rows) != 6 || rows[0].size.Text != "1920x1080" || rows[5].size.Text != "320x180" {
		t.Fatalf("auto ladder of a 1080p master: %d rows, first %q", len(rows), rows[0].size.Text)
	}
	v.preset.SetSelected(presetLabels[encode.Preset720p])
	if rows = v.editor.rows; len(rows) != 6 || rows[0].size.Text != "720p" || rows[0].bitrate.Text != "3400k" {
		t.Fatalf("720p preset: %d rows, first %q %q", len(rows), rows[0].size.Text, rows[0].bitrate.Text)
	}
	// The ladder chart and table follow the rows (the chart shows the ladder until an encode).
	if v.metric.Selected != metricLadder || len(v.chart.rungs) != 6 || v.chart.rungs[0].Height != 720 ||
		!strings.HasPrefix(v.table.Text, "RUNG") || !strings.Contains(v.table.Text, "720p") {
		t.Errorf("ladder chart: metric %q, %d rungs, table %q", v.metric.Selected, len(v.chart.rungs), v.table.Text)
	}
	row := rows[0]
	cases := []struct{ size, bitrate, audio, want string }{
		{"2160p", "3400k", "128k", "larger than the master (1920x1080): Satchel never upscales"},
		{"721p", "3400k", "128k", "height: 721: must be even"},
		{"720i", "3400k", "128k", `resolution: size "720i": use WIDTHxHEIGHT`},
		{"720p", "fast", "128k", "video bit rate"},
		{"720p", "12000k", "128k", "⚠ rung 1 (1280x720_12000k) asks for 12000 kb/s, more than the master's video"},
		{"720p", "3400k", "loud", "audio bit rate"},
	}
	for _, c := range cases {
		row.size.SetText(c.size)
		row.bitrate.SetText(c.bitrate)
		row.audio.SetText(c.audio)
		if !row.problem.Visible() || !strings.Contains(row.problem.Text, c.want) {
			t.Errorf("%s %s %s: the row says %q (visible %v), want %q", c.size, c.bitrate, c.audio, row.problem.Text,
				row.problem.Visible(), c.want)
		}
	}
	// A bad row: Encode explains it and starts nothing.
	row.audio.SetText("128k")
	row.size.SetText("2160p")
	test.Tap(v.encodeBtn)
	if v.view.job != nil || !strings.Contains(v.problem.Text, "larger than the master") {
		t.Fatalf("encode with an upscaling row: job %v, problem %q", v.view.job, v.problem.Text)
	}
	row.size.SetText("720p")
	if row.problem.Visible() {
		t.Errorf("a fine row still shows %q", row.problem.Text)
	}
	test.Tap(v.editor.addBtn)
	if len(v.editor.rows) != 7 || v.editor.rows[6].size.Text != "120p" && v.editor.rows[6].size.Text != "180p" {
		t.Fatalf("add rung: %d rows, new %q", len(v.editor.rows), v.editor.rows[len(v.editor.rows)-1].size.Text)
	}
	test.Tap(v.editor.rows[6].remove)
	test.Tap(v.editor.rows[1].remove)
	if len(v.editor.rows) != 5 || len(v.chart.rungs) != 5 {
		t.Fatalf("remove: %d rows, %d on the chart, want 5", len(v.editor.rows), len(v.chart.rungs))
	}
	// Two identical rows: the ladder as a whole is refused, below the rows.
	v.editor.rows[1].size.SetText("720p")
	v.editor.rows[1].bitrate.SetText("3400k")
	if !v.editor.summary.Visible() || !strings.Contains(v.editor.summary.Text, "same size, bit rate and codec as rung 1") {
		t.Errorf("duplicate rows: %q", v.editor.summary.Text)
	}
	v.editor.rows[1].bitrate.SetText("2250k")
	v.codec.SetSelected(string(encode.HEVC))
	if p := v.editor.rows[0].profile; !slices.Equal(p.Options, []string{"main", "main10"}) || p.Selected != "main" {
		t.Errorf("HEVC profiles %v, selected %q", p.Options, p.Selected)
	}
	v.outDir.SetText(filepath.Join(t.TempDir(), "rungs"))
	waitCommands(t, v, "libx265")
	if !strings.HasPrefix(v.commands.Text, "ffmpeg ") || !v.commands.Selectable {
		t.Errorf("command preview %q", v.commands.Text)
	}
}

// TestQualityChart: one point per rung at (bit rate, quality), labelled, with labelled axes;
// the metric switches the y axis; rungs without the metric are not plotted.
func TestQualityChart(t *testing.T) {
	vm := 91.5
	pts := []encode.QualityPoint{
		{Rung: "426x240_250k", Height: 240, VideoBitrate: 262_000, PSNR: 38.1, SSIM: 0.962},
		{Rung: "640x360_500k", Height: 360, VideoBitrate: 515_000, PSNR: 40.3, SSIM: 0.975, VMAF: &vm},
		{Rung: "854x480_900k", Height: 480, VideoBitrate: 930_000, PSNR: 40.4, SSIM: 0.976},
	}
	c := newQualityChart()
	w := test.NewTempWindow(t, c)
	w.Resize(fyne.NewSize(520, 320))
	c.setPoints(pts)
	circles, texts := chartObjects(c)
	if circles != 3 {
		t.Errorf("%d points drawn, want 3", circles)
	}
	for _, want := range []string{xTitleQuality, "PSNR (dB)", "240p 262k", "360p 515k", "480p 930k"} {
		if !slices.Contains(texts, want) {
			t.Errorf("chart lacks the text %q: %q", want, texts)
		}
	}
	c.setMetric(metricSSIM)
	if _, texts = chartObjects(c); !slices.Contains(texts, "SSIM (1 = identical to the master)") {
		t.Errorf("SSIM axis: %q", texts)
	}
	c.setMetric(metricVMAF)
	if circles, _ = chartObjects(c); circles != 1 {
		t.Errorf("VMAF: %d points, want the one rung that has it", circles)
	}
	c.setPoints(nil)
	if circles, texts = chartObjects(c); circles != 0 || !strings.Contains(strings.Join(texts, " "), "No quality measured") {
		t.Errorf("empty chart: %d points, texts %q", circles, texts)
	}
	// The ladder: the rows at (target bit rate, height), whatever the quality points.
	c.setMetric(metricLadder)
	c.setRungs([]encode.Rung{{Height: 720, VideoBitrate: 3_400_000}, {Width: 640, Height: 360, VideoBitrate: 800_000}})
	circles, texts = chartObjects(c)
	for _, want := range []string{xTitleLadder, "Resolution (height, px)", "720p 3400k", "360p 800k"} {
		if !slices.Contains(texts, want) {
			t.Errorf("ladder chart lacks the text %q: %q", want, texts)
		}
	}
	if circles != 2 {
		t.Errorf("ladder chart: %d points, want 2", circles)
	}
	c.setRungs(nil)
	if circles, texts = chartObjects(c); circles != 0 || !strings.Contains(strings.Join(texts, " "), "No rungs yet") {
		t.Errorf("empty ladder chart: %d points, texts %q", circles, texts)
	}
}

func chartObjects(c *qualityChart) (circles int, texts []string) {
	for _, o := range test.WidgetRenderer(c).Objects() {
		switch o := o.(type) {
		case *canvas.Circle:
			circles++
		case *canvas.Text:
			texts = append(texts, o.Text)
		}
	}
	return circles, texts
}

// TestEncodeFromAssets encodes a two-rung ladder on the Assets screen: per-rung progress in
// frames, the chart and table of the result, the rungs become the selected (aligned) assets;
// then Encode & package reuses the rungs and packages them in one job.
func TestEncodeFromAssets(t *testing.T) {
	a, v := encodeTab(t)
	v.editor.setLadder(encode.Ladder{Rungs: []encode.Rung{{Height: 360, VideoBitrate: 500_000},
		{Height: 240, VideoBitrate: 250_000, AudioBitrate: 64_000}}})
	v.segment.SetText("2s")
	v.speed.SetSelected(string(encode.SpeedUltrafast))
	v.outDir.SetText(filepath.Join(t.TempDir(), "rungs"))
	done := make(chan jobs.Record, 1)
	v.onFinish = func(r jobs.Record) { done <- r }
	test.Tap(v.encodeBtn)
	if rec := wait(t, done, "the encode"); rec.State != jobs.Done {
		t.Fatalf("encode job %s: %s (%s)", rec.State, rec.Error, v.problem.Text)
	}
	if len(v.view.bars) != 3 || !strings.Contains(v.view.labels["640x360_500k"].Text, "96 of 96 frames") {
		t.Errorf("progress: %d bars (want 2 rungs and quality), 360p label %q", len(v.view.bars),
			v.view.labels["640x360_500k"].Text)
	}
	if len(v.chart.points) != 2 || !strings.Contains(v.table.Text, "GAIN") || !strings.Contains(v.commands.Text, "ffmpeg") {
		t.Errorf("chart %d points, table %q, commands %q", len(v.chart.points), v.table.Text, v.commands.Text)
	}
	if len(a.assets.entries) != 2 || !strings.Contains(a.assets.ladder.Text, "GOPs aligned") {
		t.Errorf("assets after the encode: %d, ladder %q", len(a.assets.entries), a.assets.ladder.Text)
	}
	if !v.nextBtn.Visible() || !strings.HasPrefix(v.nextBtn.Text, "Package these rungs") {
		t.Errorf("next step %q (visible %v)", v.nextBtn.Text, v.nextBtn.Visible())
	}

	v.pkgOut.SetText(filepath.Join(t.TempDir(), "pkg"))
	test.Tap(v.packageBtn)
	if rec := wait(t, done, "encode & package"); rec.State != jobs.Done || rec.Kind != "package" {
		t.Fatalf("encode & package job %s %s: %s (%s)", rec.Kind, rec.State, rec.Error, v.problem.Text)
	}
	if !strings.Contains(v.outcome.Text, "2 reused") || !strings.Contains(v.outcome.Text, "Packaged") ||
		!strings.HasPrefix(v.nextBtn.Text, "Verify") {
		t.Errorf("outcome %q, next %q", v.outcome.Text, v.nextBtn.Text)
	}
	if b := v.banner; !strings.HasPrefix(b.title.Text, "PASS") || !strings.Contains(b.counts.Text, "2 reused") ||
		b.button("Verify now") == nil || b.out.pathLabel != "Package" {
		t.Errorf("encode banner %q %q %q", b.title.Text, b.counts.Text, b.actionLabels())
	}
}

// TestEncodeCancelAndRerun cancels an encode from the job view once the encoder reports
// frames: the job ends cancelled, every ffmpeg it started (the PIDs it logged) is gone, the
// rungs folder holds no rendition file; Encode again then runs to the end.
func TestEncodeCancelAndRerun(t *testing.T) {
	a, v := encodeTab(t)
	v.editor.setLadder(encode.Ladder{Rungs: []encode.Rung{{Height: 1080, VideoBitrate: 3_000_000},
		{Height: 240, VideoBitrate: 250_000}}})
	v.speed.SetSelected(string(encode.SpeedMedium))
	v.quality.SetChecked(false)
	out := filepath.Join(t.TempDir(), "rungs")
	v.outDir.SetText(out)
	done := make(chan jobs.Record, 1)
	v.onFinish = func(r jobs.Record) { done <- r }
	events, unsub := a.svc.Jobs.Subscribe(1024)
	defer unsub()
	test.Tap(v.encodeBtn)
	timeout := time.After(60 * time.Second)
	for progressed := false; !progressed; {
		select {
		case ev := <-events:
			progressed = ev.Unit == "frames" && ev.Done > 0 && ev.Done < ev.Total
		case rec := <-done:
			t.Fatalf("the encode ended (%s) before reporting progress", rec.State)
		case <-timeout:
			t.Fatal("no encoder progress")
		}
	}
	if v.view.cancel.Disabled() {
		t.Fatal("Cancel is disabled while the encode runs")
	}
	test.Tap(v.view.cancel)
	rec := wait(t, done, "the cancelled encode")
	if rec.State != jobs.Cancelled {
		t.Fatalf("job %s (%s), want cancelled", rec.State, rec.Error)
	}
	pids := 0
	for _, l := range rec.Log {
		var pid int
		if i := strings.Index(l, "ffmpeg PID "); i >= 0 {
			if _, err := fmt.Sscanf(l[i:], "ffmpeg PID %d:", &pid); err == nil {
				pids++
				if alive(pid) {
					t.Errorf("ffmpeg PID %d still runs after Cancel", pid)
				}
			}
		}
	}
	if pids == 0 {
		t.Errorf("the job logged no encoder PID: %q", rec.Log)
	}
	entries, _ := os.ReadDir(out) // the folder may not exist at all
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".mp4") {
			t.Errorf("the cancelled encode left %s, which looks like a finished rendition", e.Name())
		}
	}
	if v.encodeBtn.Disabled() {
		t.Fatal("Encode stays disabled after the cancel")
	}
	v.speed.SetSelected(string(encode.SpeedUltrafast))
	test.Tap(v.encodeBtn)
	if rec := wait(t, done, "the re-run"); rec.State != jobs.Done {
		t.Fatalf("re-run %s: %s", rec.State, rec.Error)
	}
	if len(a.assets.entries) != 2 {
		t.Errorf("after the re-run the assets are %d files, want the 2 rungs", len(a.assets.entries))
	}
}

// alive reports whether process pid still exists (signal 0 probes without signalling).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// TestDropMaster: a file that is not an MP4-family rendition dropped on the window is taken
// as the master.
func TestDropMaster(t *testing.T) {
	a := newTestApp(t)
	probed := make(chan error, 1)
	a.assets.enc.onMaster = func(err error) { probed <- err }
	a.assets.drop([]string{"/nowhere/take1.mxf"})
	if err := wait(t, probed, "the dropped master"); err == nil || a.assets.tabs.Selected() != a.assets.encTab {
		t.Fatalf("dropped MXF: err %v, tab %v", err, a.assets.tabs.Selected().Text)
	}
	if a.assets.enc.masterPath.Text != "/nowhere/take1.mxf" || !strings.Contains(a.assets.enc.problem.Text, "MOV/ProRes") {
		t.Errorf("master %q, problem %q", a.assets.enc.masterPath.Text, a.assets.enc.problem.Text)
	}
}

func TestChartTicks(t *testing.T) {
	cases := []struct {
		r    [2]float64
		want string
	}{
		{[2]float64{0, 6658}, "0 1000 2000 3000 4000 5000 6000"},
		{[2]float64{45.5, 51.4}, "46 47 48 49 50 51"},
		{[2]float64{0.9962, 0.9988}, "0.9965 0.9970 0.9975 0.9980 0.9985"},
		{[2]float64{0, 12}, "0 2 4 6 8 10 12"},
		{[2]float64{0, 14}, "0.0 2.5 5.0 7.5 10.0 12.5"},
	}
	for _, c := range cases {
		var got []string
		for _, v := range niceTicks(c.r) {
			got = append(got, formatTick(v, c.r))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("ticks of %v: %q, want %q", c.r, got, c.want)
		}
	}
}
