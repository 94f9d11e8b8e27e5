package ui

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/encode"
)

// masterExtensions are offered by the master file dialog: the containers masters come in
// (ProRes MOV, MXF, MKV, MP4 and other files ffmpeg reads).
var masterExtensions = []string{".mov", ".mxf", ".mkv", ".mp4", ".m4v", ".avi", ".webm", ".ts", ".mts", ".m2ts",
	".mpg", ".mpeg", ".y4m", ".dv", ".wmv", ".flv", ".3gp"}

// renditionExtensions are what dropped files must end in to be taken as renditions; anything
// else dropped on the window is taken as a master.
var renditionExtensions = []string{".mp4", ".m4v", ".mov", ".m4a", ".cmfv"}

// presetLabels name the presets in the preset picker, and presetNotes describe them beside it.
var (
	presetLabels = map[encode.Preset]string{
		encode.PresetAuto:  "auto",
		encode.Preset1080p: "1080p",
		encode.Preset720p:  "720p",
		encode.PresetSD:    "SD",
	}
	presetNotes = map[encode.Preset]string{
		encode.PresetAuto:  "derived from the master, like AMS AdaptiveStreaming: never larger, never above its bit rate",
		encode.Preset1080p: "AMS H264MultipleBitrate1080p: 8 rungs, 6000 to 400 kb/s",
		encode.Preset720p:  "AMS H264MultipleBitrate720p: 6 rungs, 3400 to 400 kb/s",
		encode.PresetSD:    "AMS H264MultipleBitrateSD: 5 rungs, 1900 to 400 kb/s",
	}
)

// encodeView is the Assets screen's "Encode from master" tab: a master, a ladder editor with
// presets, the exact ffmpeg command lines, Encode and Encode & package jobs with per-rung
// progress, and the bit rate versus quality chart of the result.
type encodeView struct {
	a          *App
	obj        fyne.CanvasObject
	masterPath *widget.Entry
	masterInfo *widget.Label
	master     *encode.Master
	preset     *widget.Select
	presetNote *widget.Label
	codec      *widget.Select
	editor     *ladderEditor
	segment    *widget.Entry
	speed      *widget.Select
	strategy   *widget.Select
	quality    *widget.Check
	sceneCuts  *widget.Check
	outDir     *widget.Entry
	proposed   string // the output folder last proposed (replaced when the master changes)
	pkgOut     *widget.Entry
	keySet     *widget.Select
	policy     *widget.Select
	problem    problemLabel
	encodeBtn  *widget.Button
	packageBtn *widget.Button
	nextBtn    *widget.Button
	next       func()
	view       *jobView
	banner     *banner
	outcome    *widget.Label
	commands   *widget.Label
	cmdTitle   *widget.Label
	chart      *qualityChart
	metric     *widget.RadioGroup
	table      *widget.Label
	shown      *services.EncodeResult // the result the chart shows
	planGen    atomic.Int64
	onDone     func() // the owner refreshes the assets list

	onMaster  func(error)       // tests: a master was probed
	onPlanned func(error)       // tests: the command preview was updated
	onFinish  func(jobs.Record) // tests: a job ended
}

func newEncodeView(a *App) *encodeView {
	v := &encodeView{a: a, editor: newLadderEditor()}
	v.masterPath = widget.NewEntry()
	v.masterPath.SetPlaceHolder("master file: MOV/ProRes, MXF, MKV, MP4 … (or drop it on the window)")
	v.masterPath.OnSubmitted = func(p string) { v.setMaster(strings.TrimSpace(p)) }
	browse := widget.NewButton("Browse…", v.browseMaster)
	v.masterInfo = widget.NewLabel("No master yet.")
	v.masterInfo.Wrapping = fyne.TextWrapWord
	opts := make([]string, len(encode.Presets))
	for i, p := range encode.Presets {
		opts[i] = presetLabels[p]
	}
	v.presetNote = widget.NewLabel("")
	v.presetNote.Wrapping = fyne.TextWrapWord
	v.presetNote.TextStyle.Italic = true
	v.preset = widget.NewSelect(opts, func(string) {
		v.presetNote.SetText(presetNotes[v.presetValue()])
		v.applyPreset()
	})
	v.codec = widget.NewSelect(names(encode.Codecs), nil)
	v.codec.SetSelected(string(encode.H264))
	v.codec.OnChanged = func(c string) { v.editor.setCodec(encode.Codec(c)) }
	v.editor.onChange = v.edited
	v.buildOptions()
	v.buildResults()
	v.problem = newProblemLabel()
	v.view = newJobView(a)
	v.view.onDone = v.finished
	v.banner = newBanner(a)
	v.encodeBtn = widget.NewButton("Encode", func() { v.start(false) })
	v.encodeBtn.Importance = widget.HighImportance
	v.packageBtn = widget.NewButton("Encode & package", func() { v.start(true) })
	v.nextBtn = widget.NewButton("", func() {
		if v.next != nil {
			v.next()
		}
	})
	v.nextBtn.Hide()
	v.outcome = widget.NewLabel("")
	v.outcome.Wrapping = fyne.TextWrapWord
	v.layout(browse)
	v.preset.SetSelected(presetLabels[encode.PresetAuto])
	return v
}

// buildOptions makes the encode and package option inputs.
func (v *encodeView) buildOptions() {
	v.segment = widget.NewEntry()
	v.segment.SetText(encode.DefaultSegmentDuration.String())
	v.speed = widget.NewSelect(names(encode.Speeds), nil)
	v.speed.SetSelected(string(encode.SpeedMedium))
	v.strategy = widget.NewSelect(names([]encode.Strategy{encode.OneProcess, encode.Parallel}), nil)
	v.strategy.SetSelected(string(encode.DefaultStrategy))
	v.quality = widget.NewCheck("Measure quality (PSNR, SSIM, VMAF)", nil)
	v.quality.SetChecked(true)
	v.sceneCuts = widget.NewCheck("Allow keyframes at scene cuts", nil)
	v.outDir = widget.NewEntry()
	v.outDir.SetPlaceHolder("folder for the rungs (finished rungs in it are reused)")
	v.pkgOut = widget.NewEntry()
	v.keySet = widget.NewSelect(nil, nil)
	v.policy = widget.NewSelect(nil, nil)
	for _, en := range []*widget.Entry{v.segment, v.outDir} {
		en.OnChanged = func(string) { v.replan() }
	}
	v.speed.OnChanged = func(string) { v.replan() }
	v.strategy.OnChanged = func(string) { v.replan() }
	v.sceneCuts.OnChanged = func(bool) { v.replan() }
}

// buildResults makes the chart, its metric choice, the quality table and the command lines.
func (v *encodeView) buildResults() {
	v.chart = newQualityChart()
	v.metric = widget.NewRadioGroup([]string{metricLadder, metricPSNR, metricSSIM}, func(m string) {
		if m != "" {
			v.chart.setMetric(m)
			v.showTable()
		}
	})
	v.metric.Horizontal = true
	v.table = widget.NewLabel("")
	v.table.TextStyle.Monospace = true
	v.table.Selectable = true
	v.metric.SetSelected(metricLadder)
	v.cmdTitle = heading("ffmpeg command lines")
	v.commands = widget.NewLabel("Choose a master and a ladder: the exact commands appear here.")
	v.commands.TextStyle.Monospace = true
	v.commands.Wrapping = fyne.TextWrapBreak
	v.commands.Selectable = true
}

func (v *encodeView) layout(browse *widget.Button) {
	hint := widget.NewLabel("Encode the renditions from one master file. Every rung gets keyframes on the same " +
		"frames at each segment boundary, so the ladder packages as it is. Rows never exceed the master: a larger " +
		"one is refused, a bit rate above the master's is flagged.")
	hint.Wrapping = fyne.TextWrapWord
	presetRow := container.NewVBox(container.NewHBox(widget.NewLabel("Ladder preset"), v.preset,
		widget.NewLabel("Codec of every rung"), v.codec), v.presetNote)
	form := widget.NewForm(widget.NewFormItem("Segment duration", v.segment), widget.NewFormItem("Speed", v.speed),
		widget.NewFormItem("Strategy", v.strategy), widget.NewFormItem("", container.NewVBox(v.quality, v.sceneCuts)),
		widget.NewFormItem("Output folder", v.outDir))
	pkgForm := widget.NewForm(widget.NewFormItem("Package folder", v.pkgOut), widget.NewFormItem("Key set", v.keySet),
		widget.NewFormItem("Policy", v.policy))
	pkgNote := widget.NewLabel("Encode & package uses every DRM system, cenc and cbcs, DASH, HLS and the " +
		"download file; the Package screen has every option.")
	pkgNote.Wrapping = fyne.TextWrapWord
	pkgNote.TextStyle.Italic = true
	pkgOpts := widget.NewAccordion(widget.NewAccordionItem("Package options", container.NewVBox(pkgNote, pkgForm)))
	left := container.NewVBox(heading("Encode a ladder from a master"), hint,
		container.NewBorder(nil, nil, widget.NewLabel("Master"), browse, v.masterPath), v.masterInfo,
		presetRow, v.editor.obj, form, v.problem.Label,
		container.NewHBox(v.encodeBtn, v.packageBtn, v.nextBtn), pkgOpts, v.view.box, v.outcome)
	copyBtn := v.a.copyButton("Copy commands", func() string { return v.commands.Text })
	metricNote := widget.NewLabel("PSNR and SSIM compare each rung with the master scaled to the rung's size: " +
		"what the encoder lost at that size, not how a small rung looks on a large screen (VMAF, when ffmpeg has " +
		"libvmaf, scores every rung at the master's size). A step that gains nothing costs bits for nothing.")
	metricNote.Wrapping = fyne.TextWrapWord
	metricNote.TextStyle.Italic = true
	// One scroll for the whole column: the chart keeps its height however long the commands are.
	right := container.NewVScroll(container.NewVBox(heading("Ladder: bit rate vs resolution and quality"), v.metric,
		v.chart, v.table, metricNote, v.cmdTitle, container.NewHBox(copyBtn), v.commands))
	split := container.NewHSplit(container.NewVScroll(left), right)
	split.Offset = 0.55
	v.obj = v.banner.above(split)
}

// refresh fills the choices that come from the workspace and shows the newest encode.
func (v *encodeView) refresh() {
	v.keySet.Options = append([]string{generateKeys}, v.a.keySetNames()...)
	if v.keySet.Selected == "" {
		v.keySet.SetSelected(generateKeys)
	}
	v.keySet.Refresh()
	popts := append([]string{noPolicy}, v.a.policyNames()...)
	v.policy.Options = popts
	if v.policy.Selected == "" {
		v.policy.SetSelected(popts[min(1, len(popts)-1)])
	}
	v.policy.Refresh()
	if v.pkgOut.Text == "" {
		v.pkgOut.SetText(v.a.newOutDir())
	}
	if v.shown == nil {
		if last, ok := v.a.svc.LastEncode(); ok {
			v.show(last)
		}
	}
}

func (v *encodeView) browseMaster() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		v.setMaster(r.URI().Path())
	}, v.a.win)
	d.SetFilter(storage.NewExtensionFileFilter(masterExtensions))
	d.Show()
}

// setMaster probes path off the UI goroutine and makes it the master.
func (v *encodeView) setMaster(path string) {
	if path == "" {
		return
	}
	v.masterPath.SetText(path)
	v.masterInfo.SetText("Reading " + filepath.Base(path) + " …")
	go func() {
		m, err := services.ProbeMaster(v.a.ctx, path)
		fyne.Do(func() {
			if strings.TrimSpace(v.masterPath.Text) != path {
				return // another master was chosen meanwhile
			}
			v.problem.set(err)
			if err != nil {
				v.master = nil
				v.masterInfo.SetText("⚠ " + filepath.Base(path) + " cannot be used as a master.")
			} else {
				v.master = m
				v.masterInfo.SetText(describeMaster(m))
				v.proposeOutDir(m)
			}
			v.editor.setMaster(v.master)
			if v.presetValue() == encode.PresetAuto || len(v.editor.rows) == 0 {
				v.applyPreset()
			} else {
				v.replan()
			}
			if v.onMaster != nil {
				v.onMaster(err)
			}
		})
	}()
}

// proposeOutDir proposes a rungs folder named after the master, unless the user typed one.
func (v *encodeView) proposeOutDir(m *encode.Master) {
	if v.outDir.Text != "" && v.outDir.Text != v.proposed {
		return
	}
	base := strings.TrimSuffix(filepath.Base(m.Path), filepath.Ext(m.Path))
	st, err := v.a.svc.Settings()
	if err != nil {
		v.a.log.Warn("read settings", "err", err)
	}
	dir := st.DefaultOutDir
	if dir == "" {
		home, _ := os.UserHomeDir() // "" without a home: the folder is relative then
		dir = filepath.Join(home, "Satchel")
	}
	v.proposed = filepath.Join(dir, "renditions-"+base)
	v.outDir.SetText(v.proposed)
}

// describeMaster is the master's one-line summary under its path.
func describeMaster(m *encode.Master) string {
	vi := m.Video
	s := fmt.Sprintf("%s — %d×%d %.3g fps %s", filepath.Base(m.Path), vi.Width, vi.Height, vi.FrameRate.Float(), vi.Codec)
	if vi.Profile != "" {
		s += " " + vi.Profile
	}
	if vi.Bitrate > 0 {
		s += fmt.Sprintf(", %d kb/s", vi.Bitrate/1000)
	}
	if a := m.Audio; a != nil {
		s += fmt.Sprintf(" · audio %s %d ch", a.Codec, a.Channels)
	} else {
		s += " · no audio"
	}
	return s + fmt.Sprintf(" · %.1f s", m.Duration.Seconds())
}

// presetValue is the preset picked.
func (v *encodeView) presetValue() encode.Preset {
	for p, label := range presetLabels {
		if label == v.preset.Selected {
			return p
		}
	}
	return encode.PresetAuto
}

// applyPreset fills the rows with the picked preset's rungs (auto needs the master).
func (v *encodeView) applyPreset() {
	p := v.presetValue()
	if p == encode.PresetAuto && v.master == nil {
		v.editor.setLadder(encode.Ladder{})
		return
	}
	l, err := services.PresetLadder(p, encode.Codec(v.codec.Selected), v.master)
	if err != nil {
		v.problem.set(err)
		return
	}
	v.editor.setLadder(l)
}

// request reads the tab into an encode request; the rules are checked by its Validate.
func (v *encodeView) request() (services.EncodeRequest, error) {
	req := services.EncodeRequest{Master: strings.TrimSpace(v.masterPath.Text), OutDir: strings.TrimSpace(v.outDir.Text),
		Speed: encode.Speed(v.speed.Selected), Strategy: encode.Strategy(v.strategy.Selected), Quality: v.quality.Checked,
		AllowSceneCuts: v.sceneCuts.Checked}
	if v.master != nil && v.master.Path == req.Master {
		req.Probed = v.master
	}
	if err := v.editor.err(); err != nil {
		return req, err
	}
	l, err := v.editor.ladder(string(v.presetValue()))
	if err != nil {
		return req, err
	}
	req.Ladder = &l
	if req.SegmentDuration, err = time.ParseDuration(strings.TrimSpace(v.segment.Text)); err != nil {
		return req, fmt.Errorf("segment duration %q: write it like 4s or 6s", v.segment.Text)
	}
	return req, req.Validate()
}

// edited follows an edit of the ladder rows: the chart and the commands.
func (v *encodeView) edited() {
	v.chart.setRungs(v.editor.rungs())
	if v.chart.metric == metricLadder {
		v.showTable()
	}
	v.replan()
}

// replan shows the exact commands for the current inputs, computed off the UI goroutine a
// moment after the last edit (planning probes the master and the output folder).
func (v *encodeView) replan() {
	g := v.planGen.Add(1)
	req, err := v.request()
	if err != nil || v.master == nil {
		v.setCommands(nil, err)
		return
	}
	go func() {
		time.Sleep(250 * time.Millisecond)
		if v.planGen.Load() != g {
			return
		}
		plan, err := services.PlanEncode(v.a.ctx, req)
		fyne.Do(func() {
			if v.planGen.Load() == g {
				v.setCommands(plan, err)
			}
		})
	}()
}

// setCommands shows a plan's command lines, or why there is none.
func (v *encodeView) setCommands(plan *encode.Plan, err error) {
	switch {
	case err != nil:
		v.cmdTitle.SetText("ffmpeg command lines")
		v.commands.SetText("No command yet: " + explain(err))
	case plan == nil:
		v.commands.SetText("Choose a master and a ladder: the exact commands appear here.")
	case len(plan.Commands) == 0:
		v.cmdTitle.SetText("ffmpeg command lines")
		v.commands.SetText("Every rung is already encoded in the output folder with these settings: nothing to run.")
	default:
		v.cmdTitle.SetText(fmt.Sprintf("ffmpeg command lines (%d, to run)", len(plan.Commands)))
		v.commands.SetText(commandText(plan.Commands))
	}
	if v.onPlanned != nil {
		v.onPlanned(err)
	}
}

func commandText(cmds []encode.Command) string {
	lines := make([]string, len(cmds))
	for i, c := range cmds {
		lines[i] = c.Line
	}
	return strings.Join(lines, "\n\n")
}

// start runs an encode job, or an encode-then-package job.
func (v *encodeView) start(andPackage bool) {
	req, err := v.request()
	if err != nil {
		v.problem.set(err)
		return
	}
	var preq services.PackageRequest
	if andPackage {
		preq = services.DefaultPackageRequest()
		preq.OutDir, preq.SegmentDuration, preq.Encode = strings.TrimSpace(v.pkgOut.Text), req.SegmentDuration, &req
		if v.keySet.Selected != generateKeys {
			preq.KeySet = v.keySet.Selected
		}
		if v.policy.Selected != noPolicy {
			preq.Policy = v.policy.Selected
		}
		if err := preq.Validate(); err != nil {
			v.problem.set(err)
			return
		}
	}
	v.problem.set(nil)
	v.encodeBtn.Disable()
	v.packageBtn.Disable()
	go func() { // planning probes the master: not on the UI goroutine
		var j *jobs.Job
		var err error
		if andPackage {
			j, err = v.a.svc.StartPackage(v.a.ctx, preq)
		} else {
			j, err = v.a.svc.StartEncode(v.a.ctx, req)
		}
		fyne.Do(func() {
			if err != nil {
				v.problem.set(err)
				v.encodeBtn.Enable()
				v.packageBtn.Enable()
				return
			}
			v.outcome.SetText("")
			v.nextBtn.Hide()
			v.banner.running("Encoding…", j.Snapshot().Title)
			v.view.start(j)
		})
	}()
}

// finished shows a job's outcome: the chart and table of the encode, the commands that ran,
// and the next step.
func (v *encodeView) finished(rec jobs.Record, res any, err error) {
	v.encodeBtn.Enable()
	v.packageBtn.Enable()
	var enc *services.EncodeResult
	var pkg *services.PackageResult
	switch r := res.(type) {
	case *services.EncodeResult:
		enc = r
	case *services.PackageResult:
		pkg, enc = r, r.Encode
	}
	switch {
	case rec.State == jobs.Cancelled:
		v.banner.set(outcome{level: levelWarn, title: "CANCELLED",
			detail: "Finished rungs stay in the output folder; the next run reuses them."})
	case err != nil:
		v.banner.set(outcome{level: levelFail, title: "FAIL", detail: explain(err)})
	case enc != nil:
		v.banner.set(v.verdict(enc, pkg))
		v.show(enc)
		if len(enc.Quality) > 0 && v.metric.Selected == metricLadder {
			v.metric.SetSelected(metricPSNR) // what the user waited for
		}
		v.cmdTitle.SetText(fmt.Sprintf("ffmpeg command lines (%d, ran)", len(enc.Commands)))
		if len(enc.Commands) == 0 {
			v.commands.SetText("No ffmpeg ran: every rung was reused from an earlier run.")
		} else {
			v.commands.SetText(commandText(enc.Commands))
		}
		v.outcome.SetText(encodeOutcome(enc, pkg))
		v.offerNext(pkg)
	}
	if v.onDone != nil {
		v.onDone()
	}
	if v.onFinish != nil {
		v.onFinish(rec)
	}
}

// verdict is the banner of a finished encode (and package): PASS, or PASS WITH WARNINGS when
// the encoder warned, the rungs, where they are, and the next step.
func (v *encodeView) verdict(enc *services.EncodeResult, pkg *services.PackageResult) outcome {
	reused := 0
	for _, r := range enc.Rungs {
		if r.Cached {
			reused++
		}
	}
	o := outcome{level: levelPass, title: "PASS", pathLabel: "Rungs", path: enc.OutDir,
		counts: fmt.Sprintf("%s · %d reused · %s", plural(len(enc.Rungs), "rung", "rungs"), reused,
			plural(len(enc.Warnings), "warning", "warnings")),
		detail: fmt.Sprintf("Encoded with keyframes at every %s boundary; the rungs are now the selected assets.",
			enc.SegmentDuration)}
	for _, w := range enc.Warnings {
		o.issues = append(o.issues, issue{group: "Encode", message: w})
	}
	if len(o.issues) > 0 {
		o.level, o.title = levelWarn, "PASS WITH WARNINGS"
	}
	if pkg != nil {
		out := pkg.OutDir
		o.pathLabel, o.path = "Package", out
		o.detail = fmt.Sprintf("Encoded %d rungs and packaged %d renditions.", len(enc.Rungs), len(pkg.Renditions))
		o.actions = []bannerAction{
			{label: "Verify now", icon: theme.ConfirmIcon(), primary: true, do: func() { v.a.verifyNow(out) }},
			{label: "Publish", icon: theme.UploadIcon(), do: func() { v.a.publishFrom(out) }},
		}
	} else {
		o.actions = []bannerAction{{label: "Package these rungs", icon: boxIcon, primary: true,
			do: func() { v.a.Show(ScreenPackage) }}}
	}
	dir := o.path
	o.actions = append(o.actions, bannerAction{label: "Open folder", icon: theme.FolderOpenIcon(),
		do: func() { v.a.openPath(dir) }})
	return o
}

// offerNext shows the button to the next step: Package for new rungs, Verify for a package.
func (v *encodeView) offerNext(pkg *services.PackageResult) {
	if pkg != nil {
		v.nextBtn.SetText("Verify the package →")
		v.next = func() { v.a.Show(ScreenVerify) }
	} else {
		v.nextBtn.SetText("Package these rungs →")
		v.next = func() { v.a.Show(ScreenPackage) }
	}
	v.nextBtn.Show()
}

func encodeOutcome(enc *services.EncodeResult, pkg *services.PackageResult) string {
	reused := 0
	for _, r := range enc.Rungs {
		if r.Cached {
			reused++
		}
	}
	lines := []string{fmt.Sprintf("Encoded %d rungs into %s (%d reused from an earlier run); segments of %s. "+
		"They are now the selected assets (Renditions tab).", len(enc.Rungs), enc.OutDir, reused, enc.SegmentDuration)}
	if pkg != nil {
		lines = append(lines, fmt.Sprintf("Packaged %d renditions into %s.", len(pkg.Renditions), pkg.OutDir))
		if pkg.KeySet != "" {
			lines = append(lines, fmt.Sprintf("Generated keys saved as key set “%s” (Keys screen).", pkg.KeySet))
		}
	}
	if enc.QualityNote != "" {
		lines = append(lines, enc.QualityNote+".")
	}
	for _, w := range enc.Warnings {
		lines = append(lines, "⚠ "+w)
	}
	return strings.Join(lines, "\n")
}

// show puts an encode's quality on the chart and in the table.
func (v *encodeView) show(res *services.EncodeResult) {
	v.shown = res
	opts := []string{metricLadder, metricPSNR, metricSSIM}
	for _, p := range res.Quality {
		if p.VMAF != nil {
			opts = append(opts, metricVMAF)
			break
		}
	}
	v.metric.Options = opts
	v.metric.Refresh()
	v.chart.setPoints(res.Quality)
	v.showTable()
}

// showTable lists the plotted rungs with the chosen metric's gain over the rung below: a
// gain near zero marks a rung that costs bits and adds little.
func (v *encodeView) showTable() {
	if v.chart.metric == metricLadder {
		v.table.SetText(ladderTable(v.chart.rungs))
		return
	}
	if v.shown == nil || len(v.shown.Quality) == 0 {
		v.table.SetText("")
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %6s %7s %6s %7s\n", "RUNG", "KB/S", "PSNR dB", "SSIM", "GAIN")
	prev := 0.0
	for i, p := range v.shown.Quality {
		val, _ := v.chart.value(p)
		gain := "-"
		if i > 0 {
			gain = formatGain(val-prev, v.chart.metric)
		}
		prev = val
		fmt.Fprintf(&b, "%-6s %6d %7.2f %6.4f %7s\n", fmt.Sprintf("%dp", p.Height), (p.VideoBitrate+500)/1000, p.PSNR,
			p.SSIM, gain)
	}
	b.WriteString("GAIN: " + v.chart.metric + " over the rung below")
	v.table.SetText(b.String())
}

func formatGain(d float64, metric string) string {
	if metric == metricSSIM {
		return fmt.Sprintf("%+.4f", d)
	}
	return fmt.Sprintf("%+.2f", d)
}

// ladderTable lists the rungs being edited, lowest bit rate first, with each one's step over
// the rung below: steps much under 1.5× rarely earn their storage, much over 2× leave a gap
// the player jumps across.
func ladderTable(rungs []encode.Rung) string {
	if len(rungs) == 0 {
		return ""
	}
	rs := slices.Clone(rungs)
	slices.SortStableFunc(rs, func(a, b encode.Rung) int { return cmp.Compare(a.VideoBitrate, b.VideoBitrate) })
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %6s %6s\n", "RUNG", "KB/S", "STEP")
	for i, r := range rs {
		size := fmt.Sprintf("%dp", r.Height)
		if r.Width != 0 {
			size = fmt.Sprintf("%dx%d", r.Width, r.Height)
		}
		step := "-"
		if i > 0 && rs[i-1].VideoBitrate > 0 {
			step = fmt.Sprintf("×%.2f", float64(r.VideoBitrate)/float64(rs[i-1].VideoBitrate))
		}
		fmt.Fprintf(&b, "%-10s %6d %6s\n", size, r.VideoBitrate.Kbps(), step)
	}
	b.WriteString("STEP: × the rung below (1.5–2× is usual)")
	return b.String()
}
