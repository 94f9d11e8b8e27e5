package ui

import (
	"errors"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// errNoOpener says the desktop has no program registered to open files and folders.
var errNoOpener = errors.New("no file manager or browser is registered to open it")

// hider is a dialog the app tracks so Escape can close it.
type hider interface{ Hide() }

// showDialog shows d sized to frac of the window (0: its own size) and remembers it, so
// Escape closes it.
func (a *App) showDialog(d dialog.Dialog, frac float32) {
	a.trackDialog(d)
	d.SetOnClosed(func() { a.untrackDialog(d) })
	if frac > 0 {
		sz := a.win.Canvas().Size()
		d.Resize(fyne.NewSize(sz.Width*frac, sz.Height*frac))
	}
	d.Show()
}

func (a *App) trackDialog(d hider) { a.dialogs = append(a.dialogs, d) }

func (a *App) untrackDialog(d hider) {
	for i := len(a.dialogs) - 1; i >= 0; i-- {
		if a.dialogs[i] == d {
			a.dialogs = append(a.dialogs[:i], a.dialogs[i+1:]...)
			return
		}
	}
}

// typedKey handles the keys no focused widget took: Escape closes the topmost dialog, Enter
// (Return) runs the current screen's main action.
func (a *App) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if n := len(a.dialogs); n > 0 {
			d := a.dialogs[n-1]
			a.dialogs = a.dialogs[:n-1]
			d.Hide()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if len(a.dialogs) > 0 {
			return
		}
		a.mainAction()
	}
}

// mainAction runs the current screen's main button when it is enabled.
func (a *App) mainAction() {
	for _, s := range a.screens {
		if s.name == a.current && s.main != nil && !s.main.Disabled() && s.main.OnTapped != nil {
			s.main.OnTapped()
		}
	}
}

// submitRuns makes Enter in each entry run btn (the screen's main action).
func submitRuns(btn *widget.Button, entries ...*widget.Entry) {
	for _, e := range entries {
		e.OnSubmitted = func(string) {
			if !btn.Disabled() && btn.OnTapped != nil {
				btn.OnTapped()
			}
		}
	}
}

// copyButton copies text to the clipboard and says “Copied” on the button for a moment.
func (a *App) copyButton(label string, text func() string) *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon(label, theme.ContentCopyIcon(), func() {
		a.fa.Clipboard().SetContent(text())
		b.SetText("Copied")
		b.SetIcon(theme.ConfirmIcon())
		time.AfterFunc(1500*time.Millisecond, func() {
			fyne.Do(func() {
				b.SetText(label)
				b.SetIcon(theme.ContentCopyIcon())
			})
		})
	})
	return b
}

// openExternal opens u with the desktop's handler. On Linux without xdg-open it fails with
// errNoOpener instead of failing silently.
func (a *App) openExternal(u *url.URL) error {
	if a.opener != nil {
		return a.opener(u)
	}
	if runtime.GOOS == "linux" {
		if _, err := exec.LookPath("xdg-open"); err != nil {
			return errNoOpener
		}
	}
	return a.fa.OpenURL(u)
}

// openPath opens a file or folder in the desktop's file manager (a report in the browser);
// when that is not possible it shows the path with a Copy button.
func (a *App) openPath(path string) {
	if err := a.openExternal(&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}); err != nil {
		a.showPath("Open it yourself", "Satchel could not open it ("+err.Error()+"). It is here:", path)
	}
}

// showPath shows a path with a Copy button (where an export wrote, a folder to open).
func (a *App) showPath(title, say, path string) {
	msg := widget.NewLabel(say)
	msg.Wrapping = fyne.TextWrapWord
	p := widget.NewLabel(path)
	p.Wrapping = fyne.TextWrapBreak
	p.Selectable = true
	p.TextStyle.Monospace = true
	content := container.NewVBox(msg, container.NewBorder(nil, nil, nil, a.copyButton("Copy", func() string { return path }), p))
	d := dialog.NewCustom(title, "Close", content, a.win)
	a.lastPathDialog = path
	a.showDialog(d, 0)
	d.Resize(fyne.NewSize(min(a.win.Canvas().Size().Width*0.7, 760), d.MinSize().Height))
}

// errorDialog shows msg as written (Fyne's error dialog capitalises the first letter, which
// changes a file name that starts the message).
func (a *App) errorDialog(msg string) {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	l.Selectable = true
	d := dialog.NewCustom("Cannot do that", "Close", container.NewVScroll(l), a.win)
	a.lastError = msg
	a.showDialog(d, 0)
	w := min(a.win.Canvas().Size().Width*0.6, 720)
	l.Resize(fyne.NewSize(w, l.MinSize().Height))
	d.Resize(fyne.NewSize(w, min(l.MinSize().Height+120, a.win.Canvas().Size().Height*0.8)))
}

// lastFolder returns the folder the file dialogs last opened in (nil: the dialog's default).
func (a *App) lastFolder() fyne.ListableURI {
	if a.lastDir == "" {
		return nil
	}
	l, err := storage.ListerForURI(storage.NewFileURI(a.lastDir))
	if err != nil {
		return nil
	}
	return l
}

// remember notes the folder of path (a file or a folder) for the next file dialog.
func (a *App) remember(path string, isDir bool) {
	if !isDir {
		path = filepath.Dir(path)
	}
	a.lastDir = path
}

// fileDialog sizes a file dialog to the window and opens it in the last-used folder.
func (a *App) fileDialog(d *dialog.FileDialog) {
	if l := a.lastFolder(); l != nil {
		d.SetLocation(l)
	}
	sz := a.win.Canvas().Size()
	d.Resize(fyne.NewSize(max(sz.Width*0.85, 640), max(sz.Height*0.85, 440)))
	a.trackDialog(d)
	d.SetOnClosed(func() { a.untrackDialog(d) })
	d.Show()
}

// openFile asks for one file (filter: extensions, none for any) and gives its path.
func (a *App) openFile(exts []string, then func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		a.remember(r.URI().Path(), false)
		then(r.URI().Path())
	}, a.win)
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	a.fileDialog(d)
}

// openFolder asks for a folder and gives its path.
func (a *App) openFolder(then func(path string)) {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil || u == nil {
			return
		}
		a.remember(u.Path(), true)
		then(u.Path())
	}, a.win)
	a.fileDialog(d)
}

// saveFile asks where to save, suggesting name, writes with write, and says where it wrote.
func (a *App) saveFile(name string, write func(w fyne.URIWriteCloser) error) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		err = write(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			a.showErr(err)
			return
		}
		a.remember(path, false)
		a.showPath("Saved", "Written to:", path)
	}, a.win)
	d.SetFileName(name)
	a.fileDialog(d)
}
