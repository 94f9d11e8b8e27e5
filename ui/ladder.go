package ui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/encode"
)

const audioNone = "none"

// ladderEditor edits a ladder row by row: resolution, video bit rate, codec and profile,
// audio bit rate and channels. Each row is checked as it is typed, against the master when
// one is probed (never larger than the master, never above its bit rate), and explains its
// problem underneath.
type ladderEditor struct {
	rows     []*ladderRow
	box      *fyne.Container // the rows
	obj      fyne.CanvasObject
	summary  *widget.Label // problems of the ladder as a whole
	addBtn   *widget.Button
	master   *encode.Master
	onChange func() // after any edit (the owner re-plans)
}

// ladderRow is one rung's inputs and its inline problem.
type ladderRow struct {
	ed       *ladderEditor
	size     *widget.Entry
	bitrate  *widget.Entry
	codec    *widget.Select
	profile  *widget.Select
	audio    *widget.Entry
	channels *widget.Select
	remove   *widget.Button
	problem  *widget.Label
	obj      fyne.CanvasObject
}

// Column titles of the editor, in row order, and the share of the row's width each gets.
var (
	ladderColumns = []string{"Resolution", "Video", "Codec", "Profile", "Audio", "Channels"}
	ladderWidths  = []float32{0.2, 0.16, 0.17, 0.17, 0.15, 0.15}
)

// columnsLayout gives each object a fixed share of the width (the editor's header and rows
// line up whatever the inputs' own minimum widths), and the tallest minimum height.
type columnsLayout struct{ shares []float32 }

func (l columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	x := float32(0)
	avail := size.Width - pad*float32(len(objs)-1)
	for i, o := range objs {
		w := avail * l.shares[i]
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + pad
	}
}

func (l columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(float32(70*len(objs)), h)
}

func newLadderEditor() *ladderEditor {
	e := &ladderEditor{box: container.NewVBox()}
	e.summary = widget.NewLabel("")
	e.summary.Wrapping = fyne.TextWrapWord
	e.summary.Importance = widget.DangerImportance
	e.summary.Hide()
	head := container.New(columnsLayout{ladderWidths})
	for _, c := range ladderColumns {
		head.Add(widget.NewLabelWithStyle(c, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	e.addBtn = widget.NewButtonWithIcon("Add rung", theme.ContentAddIcon(), func() {
		r := encode.Rung{Height: 360, VideoBitrate: 800_000}
		if n := len(e.rows); n > 0 {
			if last, err := e.rows[n-1].rung(); err == nil {
				r = encode.Rung{Height: max(180, last.Height*2/3/2*2), VideoBitrate: max(encode.MinVideoBitrate,
					last.VideoBitrate/2), Codec: last.Codec}
			}
		}
		e.addRow(r)
		e.changed()
	})
	spacer := widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), nil) // reserves the remove column
	spacer.Hide()
	e.obj = container.NewVBox(container.NewBorder(nil, nil, nil, spacer, head), e.box, e.summary,
		container.NewHBox(e.addBtn))
	return e
}

// setLadder replaces the rows with the rungs of l.
func (e *ladderEditor) setLadder(l encode.Ladder) {
	e.rows = nil
	e.box.RemoveAll()
	for _, r := range l.Rungs {
		e.addRow(r)
	}
	e.changed()
}

// setMaster sets the master the rows are checked against (nil: none probed yet).
func (e *ladderEditor) setMaster(m *encode.Master) {
	e.master = m
	e.check()
}

func (e *ladderEditor) addRow(r encode.Rung) {
	row := &ladderRow{ed: e}
	row.size = widget.NewEntry()
	row.size.SetPlaceHolder("1280x720 or 720p")
	row.bitrate = widget.NewEntry()
	row.bitrate.SetPlaceHolder("3400k")
	row.codec = widget.NewSelect(names(encode.Codecs), nil)
	row.profile = widget.NewSelect(nil, nil)
	row.audio = widget.NewEntry()
	row.audio.SetPlaceHolder("128k or none")
	row.channels = widget.NewSelect([]string{"1", "2", "6", "8"}, nil)
	row.problem = widget.NewLabel("")
	row.problem.Wrapping = fyne.TextWrapWord
	row.problem.Hide()
	row.remove = widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), func() { e.removeRow(row) })
	row.fill(r)
	for _, en := range []*widget.Entry{row.size, row.bitrate, row.audio} {
		en.OnChanged = func(string) { e.changed() }
	}
	row.codec.OnChanged = func(string) { row.setProfiles(""); e.changed() }
	row.profile.OnChanged = func(string) { e.changed() }
	row.channels.OnChanged = func(string) { e.changed() }
	fields := container.New(columnsLayout{ladderWidths}, row.size, row.bitrate, row.codec, row.profile, row.audio,
		row.channels)
	row.obj = container.NewVBox(container.NewBorder(nil, nil, nil, row.remove, fields), row.problem)
	e.rows = append(e.rows, row)
	e.box.Add(row.obj)
}

func (e *ladderEditor) removeRow(row *ladderRow) {
	for i, r := range e.rows {
		if r == row {
			e.rows = append(e.rows[:i], e.rows[i+1:]...)
			e.box.Remove(row.obj)
			break
		}
	}
	e.changed()
}

// fill shows rung r in the row's inputs.
func (row *ladderRow) fill(r encode.Rung) {
	size := fmt.Sprintf("%dp", r.Height)
	if r.Width != 0 {
		size = fmt.Sprintf("%dx%d", r.Width, r.Height)
	}
	row.size.SetText(size)
	row.bitrate.SetText(r.VideoBitrate.String())
	codec := r.Codec
	if codec == "" {
		codec = encode.H264
	}
	row.codec.SetSelected(string(codec))
	row.setProfiles(r.Profile)
	switch {
	case r.NoAudio:
		row.audio.SetText(audioNone)
	case r.AudioBitrate != 0:
		row.audio.SetText(r.AudioBitrate.String())
	default:
		row.audio.SetText(encode.DefaultAudioBitrate.String())
	}
	ch := r.AudioChannels
	if ch == 0 {
		ch = encode.DefaultAudioChannels
	}
	row.channels.SetSelected(strconv.Itoa(ch))
}

// setProfiles offers the profiles of the row's codec and selects p (or the codec's default).
func (row *ladderRow) setProfiles(p encode.Profile) {
	c := encode.Codec(row.codec.Selected)
	row.profile.Options = names(c.Profiles())
	if !slices.Contains(row.profile.Options, string(p)) {
		p = c.DefaultProfile()
	}
	row.profile.SetSelected(string(p))
	row.profile.Refresh()
}

// rung parses the row's inputs. The error is an *encode.LadderError naming the input that
// cannot be read (its Rung is 0: the caller knows the row's number).
func (row *ladderRow) rung() (encode.Rung, error) {
	var r encode.Rung
	var err error
	bad := func(field string, err error) error { return &encode.LadderError{Field: field, Reason: err.Error()} }
	if r.Width, r.Height, err = encode.ParseSize(row.size.Text); err != nil {
		return r, bad("resolution", err)
	}
	if r.VideoBitrate, err = encode.ParseBitrate(row.bitrate.Text); err != nil {
		return r, bad("video bit rate", err)
	}
	r.Codec, r.Profile = encode.Codec(row.codec.Selected), encode.Profile(row.profile.Selected)
	if a := strings.TrimSpace(row.audio.Text); strings.EqualFold(a, audioNone) {
		r.NoAudio = true
		return r, nil
	} else if r.AudioBitrate, err = encode.ParseBitrate(a); err != nil {
		return r, bad("audio bit rate", fmt.Errorf("%w (or write none)", err))
	}
	r.AudioChannels, _ = strconv.Atoi(row.channels.Selected) // the options are numbers
	return r, nil
}

// setCodec sets every row to codec c with its default profile.
func (e *ladderEditor) setCodec(c encode.Codec) {
	for _, row := range e.rows {
		row.codec.SetSelected(string(c)) // OnChanged resets the profile and re-checks
	}
}

// ladder returns the rows as a ladder (name "custom" unless named), or the first row's
// problem.
func (e *ladderEditor) ladder(name string) (encode.Ladder, error) {
	l := encode.Ladder{Name: name}
	for i, row := range e.rows {
		r, err := row.rung()
		var le *encode.LadderError
		if errors.As(err, &le) {
			le.Rung = i + 1
		}
		if err != nil {
			return l, err
		}
		l.Rungs = append(l.Rungs, r)
	}
	return l, l.Validate()
}

// rungs are the rows that parse, for the ladder chart (a row being typed is left out).
func (e *ladderEditor) rungs() []encode.Rung {
	var out []encode.Rung
	for _, row := range e.rows {
		if r, err := row.rung(); err == nil && r.Height > 0 {
			out = append(out, r)
		}
	}
	return out
}

func (e *ladderEditor) changed() {
	e.check()
	if e.onChange != nil {
		e.onChange()
	}
}

// check shows each row's problem or warnings under it, and the ladder's own problem below
// the rows. It reports whether every row is fine (warnings allowed).
func (e *ladderEditor) check() bool {
	ok := true
	for i, row := range e.rows {
		ok = row.check(i+1) && ok
	}
	if _, err := e.ladder(""); err != nil && ok {
		var le *encode.LadderError
		msg := err.Error()
		if errors.As(err, &le) && le.Rung > 0 {
			msg = fmt.Sprintf("Rung %d: %s: %s", le.Rung, le.Field, le.Reason)
		}
		e.summary.SetText(msg)
		e.summary.Show()
		return false
	}
	e.summary.Hide()
	return ok
}

// check explains row n's problem (danger) or warnings (warning) under it.
func (row *ladderRow) check(n int) bool {
	show := func(text string, imp widget.Importance) {
		row.problem.Importance = imp
		row.problem.SetText(text)
		if text == "" {
			row.problem.Hide()
		} else {
			row.problem.Show()
		}
	}
	warns, err := row.checked(n)
	if err != nil {
		show(rowProblem(err), widget.DangerImportance)
		return false
	}
	for i, w := range warns {
		warns[i] = "⚠ " + w
	}
	show(strings.Join(warns, "\n"), widget.WarningImportance)
	return true
}

// checked parses row n (1-based) and checks it on its own and against the master when there
// is one: the error (typed, naming row n) or the warnings.
func (row *ladderRow) checked(n int) ([]string, error) {
	r, err := row.rung()
	var le *encode.LadderError
	if errors.As(err, &le) {
		le.Rung = n
	}
	if err != nil {
		return nil, err
	}
	return services.CheckRung(row.ed.master, n, r)
}

// err is the first problem of the ladder: a row's (as check shows it) or the ladder's as a
// whole (duplicate rows).
func (e *ladderEditor) err() error {
	for i, row := range e.rows {
		if _, err := row.checked(i + 1); err != nil {
			return err
		}
	}
	_, err := e.ladder("")
	return err
}

// rowProblem phrases a rung's problem for the line under its row.
func rowProblem(err error) string {
	var le *encode.LadderError
	var up *encode.UpscaleError
	switch {
	case errors.As(err, &up):
		return fmt.Sprintf("%dx%d is larger than the master (%dx%d): Satchel never upscales, it would only invent "+
			"detail. Lower the resolution or remove the row.", up.Width, up.Height, up.MasterWidth, up.MasterHeight)
	case errors.As(err, &le):
		return fmt.Sprintf("%s: %s", le.Field, le.Reason)
	}
	return err.Error()
}
