package ui

import (
	"bytes"
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/encode"
	"satchel/engine/probe"
)

// assetPictures is the lower half of the Assets screen: the selected asset's first frame and
// details beside a sortable table of every asset's tracks, and the segment/GOP chart of the
// ladder.
type assetPictures struct {
	s        *assetsScreen
	obj      fyne.CanvasObject
	thumb    *canvas.Image
	thumbMsg *widget.Label
	tracks   *trackTable
	segDur   *widget.Entry
	segments *segmentChart
	segMsg   *widget.Label
	thumbs   map[string][]byte // path → PNG (nil: could not decode)
	tabs     *container.AppTabs
	ladder   *qualityChart // the selected ladder: bit rate vs resolution (the encoder's chart)
}

func (s *assetsScreen) lowerPane() fyne.CanvasObject {
	p := &assetPictures{s: s, thumbs: map[string][]byte{}}
	s.pics = p
	p.thumb = canvas.NewImageFromResource(nil)
	p.thumb.FillMode = canvas.ImageFillContain
	p.thumb.SetMinSize(fyne.NewSize(240, 135))
	p.thumbMsg = widget.NewLabel("Select an asset: its first frame shows here.")
	p.thumbMsg.Wrapping = fyne.TextWrapWord
	p.tracks = newTrackTable()
	p.segDur = widget.NewEntry()
	p.segDur.SetText("4s")
	p.segDur.Validator = durationProblem("4s", false)
	p.segDur.OnChanged = func(string) { p.refreshSegments() }
	p.segments = newSegmentChart()
	p.segMsg = widget.NewLabel("")
	p.segMsg.Wrapping = fyne.TextWrapWord
	left := container.NewBorder(container.NewVBox(p.thumb, p.thumbMsg), nil, nil, nil, container.NewVScroll(s.detail))
	segTab := container.NewBorder(container.NewVBox(container.NewBorder(nil, nil,
		widget.NewLabel("Segment duration"), nil, p.segDur), p.segMsg), nil, nil, nil, container.NewScroll(p.segments))
	p.ladder = newQualityChart()
	p.ladder.setMetric(metricLadder)
	p.tabs = container.NewAppTabs(container.NewTabItem("Tracks", p.tracks.table),
		container.NewTabItem("Segments & GOPs", segTab), container.NewTabItem("Ladder", container.NewScroll(p.ladder)))
	split := container.NewHSplit(left, p.tabs)
	split.Offset = 0.3
	p.obj = split
	return p.obj
}

// refresh redraws the track table and the segment chart from the assets.
func (p *assetPictures) refresh() {
	p.tracks.set(p.s.entries)
	p.refreshSegments()
}

func (p *assetPictures) refreshSegments() {
	d, err := time.ParseDuration(strings.TrimSpace(p.segDur.Text))
	if err != nil || p.segDur.Validate() != nil {
		p.segMsg.SetText("Segment duration: write it like 4s.")
		return
	}
	rows, err := p.s.a.svc.SegmentPlan(d)
	if err != nil {
		p.segments.set(nil, d)
		p.ladder.setRungs(nil)
		p.segMsg.SetText(explain(err))
		return
	}
	p.segments.set(rows, d)
	rungs := make([]encode.Rung, len(rows))
	for i, r := range rows {
		rungs[i] = encode.Rung{Name: r.Name, Width: r.Width, Height: r.Height, VideoBitrate: encode.Bitrate(r.VideoBitrate)}
	}
	p.ladder.setRungs(rungs)
	switch {
	case len(p.segments.long) > 0:
		p.segMsg.SetText("⚠ " + strings.Join(p.segments.long, "; ") + ": the GOPs allow no shorter segment; " +
			"re-encode with a fixed GOP (e.g. ffmpeg -g 48 -keyint_min 48 -sc_threshold 0).")
	default:
		p.segMsg.SetText(fmt.Sprintf("%d renditions, segments of about %s.", len(rows), d))
	}
}

// showAsset shows the first frame of e (decoded once, off the UI goroutine).
func (p *assetPictures) showAsset(e services.AssetEntry) {
	path := e.Path
	if b, ok := p.thumbs[path]; ok {
		p.setThumb(path, b)
		return
	}
	p.thumbMsg.SetText("Decoding the first frame of " + filepath.Base(path) + "…")
	go func() {
		b, err := services.Thumbnail(p.s.a.ctx, path, 480)
		fyne.Do(func() {
			if err != nil {
				p.s.a.log.Warn("thumbnail", "path", path, "err", err)
				b = nil
			}
			p.thumbs[path] = b
			p.setThumb(path, b)
			if p.s.onThumb != nil {
				p.s.onThumb(path)
			}
		})
	}()
}

func (p *assetPictures) setThumb(path string, b []byte) {
	if b == nil {
		p.thumb.Resource = nil
		p.thumb.Image = nil
		p.thumbMsg.SetText("No picture for " + filepath.Base(path) + " (no video, or ffmpeg is not installed).")
	} else {
		p.thumb.Resource = fyne.NewStaticResource(filepath.Base(path)+".png", bytes.Clone(b))
		p.thumbMsg.SetText("First frame of " + filepath.Base(path))
	}
	p.thumb.Refresh()
}

// trackRow is one track of an asset, as the table shows it.
type trackRow struct {
	file string
	t    probe.Track
}

// Track table columns.
var trackColumns = []struct {
	title string
	width float32
	text  func(r trackRow) string
	less  func(a, b trackRow) int
}{
	{"File", 180, func(r trackRow) string { return r.file }, func(a, b trackRow) int { return cmp.Compare(a.file, b.file) }},
	{"ID", 44, func(r trackRow) string { return fmt.Sprint(r.t.ID) }, func(a, b trackRow) int { return cmp.Compare(a.t.ID, b.t.ID) }},
	{"Kind", 64, func(r trackRow) string { return string(r.t.Kind) }, func(a, b trackRow) int { return cmp.Compare(a.t.Kind, b.t.Kind) }},
	{"Codec", 110, func(r trackRow) string { return r.t.Codec }, func(a, b trackRow) int { return cmp.Compare(a.t.Codec, b.t.Codec) }},
	{"Format", 120, trackFormat, func(a, b trackRow) int {
		return cmp.Or(cmp.Compare(a.t.Height, b.t.Height), cmp.Compare(a.t.SampleRate, b.t.SampleRate))
	}},
	{"Bit rate", 90, func(r trackRow) string { return fmt.Sprintf("%d kb/s", r.t.Bitrate/1000) },
		func(a, b trackRow) int { return cmp.Compare(a.t.Bitrate, b.t.Bitrate) }},
	{"Duration", 80, func(r trackRow) string { return fmt.Sprintf("%.2fs", r.t.Duration.Seconds()) },
		func(a, b trackRow) int { return cmp.Compare(a.t.Duration, b.t.Duration) }},
	{"Language", 80, func(r trackRow) string { return r.t.Language }, func(a, b trackRow) int { return cmp.Compare(a.t.Language, b.t.Language) }},
	{"GOPs", 60, func(r trackRow) string {
		if len(r.t.SyncTimes) == 0 {
			return ""
		}
		return fmt.Sprint(len(r.t.SyncTimes))
	}, func(a, b trackRow) int { return cmp.Compare(len(a.t.SyncTimes), len(b.t.SyncTimes)) }},
	{"Notes", 400, trackNotes, func(a, b trackRow) int { return cmp.Compare(trackNotes(a), trackNotes(b)) }},
}

func trackFormat(r trackRow) string {
	switch {
	case r.t.Width > 0:
		return fmt.Sprintf("%dx%d %.3gfps", r.t.Width, r.t.Height, r.t.FrameRate)
	case r.t.SampleRate > 0:
		return fmt.Sprintf("%d Hz %dch", r.t.SampleRate, r.t.Channels)
	}
	return ""
}

func trackNotes(r trackRow) string {
	var n []string
	if r.t.Unsupported != "" {
		n = append(n, r.t.Unsupported)
	}
	if r.t.Encrypted {
		n = append(n, "encrypted "+r.t.Scheme)
	}
	if r.t.Forced {
		n = append(n, "forced")
	}
	if r.t.Default {
		n = append(n, "default")
	}
	return strings.Join(n, ", ")
}

// trackTable lists every track of every asset; a click on a column's header sorts by it
// (again: the other way).
type trackTable struct {
	table *widget.Table
	rows  []trackRow
	col   int
	desc  bool
}

func newTrackTable() *trackTable {
	t := &trackTable{col: -1}
	t.table = widget.NewTableWithHeaders(func() (int, int) { return len(t.rows), len(trackColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("track")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(t.rows) {
				o.(*widget.Label).SetText(trackColumns[id.Col].text(t.rows[id.Row]))
			}
		})
	t.table.ShowHeaderColumn = false
	t.table.CreateHeader = func() fyne.CanvasObject { return widget.NewButton("column", nil) }
	t.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		if id.Col < 0 {
			return
		}
		title := trackColumns[id.Col].title
		if id.Col == t.col {
			title += map[bool]string{false: " ▲", true: " ▼"}[t.desc]
		}
		b.SetText(title)
		col := id.Col
		b.OnTapped = func() { t.sortBy(col) }
	}
	for i, c := range trackColumns {
		t.table.SetColumnWidth(i, c.width)
	}
	return t
}

func (t *trackTable) set(entries []services.AssetEntry) {
	t.rows = nil
	for _, e := range entries {
		for _, tr := range e.Asset.Tracks {
			t.rows = append(t.rows, trackRow{file: filepath.Base(e.Path), t: tr})
		}
	}
	t.sort()
	t.table.Refresh()
}

// sortBy sorts by column col, ascending, or the other way when it already is.
func (t *trackTable) sortBy(col int) {
	if t.col == col {
		t.desc = !t.desc
	} else {
		t.col, t.desc = col, false
	}
	t.sort()
	t.table.Refresh()
}

func (t *trackTable) sort() {
	if t.col < 0 {
		return
	}
	less := trackColumns[t.col].less
	slices.SortStableFunc(t.rows, func(a, b trackRow) int {
		if t.desc {
			return less(b, a)
		}
		return less(a, b)
	})
}
