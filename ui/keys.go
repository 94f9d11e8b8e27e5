package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/drm"
)

// keysScreen manages key sets: generate, import/export CPIX, every KID notation with copy.
type keysScreen struct {
	a      *App
	obj    fyne.CanvasObject
	sets   []services.KeySet
	list   *widget.List
	empty  *widget.Label
	detail *fyne.Container
	sel    int
	genBtn *widget.Button
	expBtn *widget.Button
	delBtn *widget.Button
}

func newKeysScreen(a *App) *keysScreen {
	s := &keysScreen{a: a, sel: -1}
	s.detail = container.NewVBox(widget.NewLabel("Select a key set."))
	s.list = widget.NewList(func() int { return len(s.sets) }, func() fyne.CanvasObject { return widget.NewLabel("key set") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			ks := s.sets[i]
			var types []string
			for _, k := range ks.Keys {
				types = append(types, k.TrackType)
			}
			o.(*widget.Label).SetText(fmt.Sprintf("%s  (%s)", ks.Name, strings.Join(types, ", ")))
		})
	s.list.OnSelected = func(i widget.ListItemID) { s.sel = i; s.showSet(s.sets[i]); s.selectionChanged() }
	s.list.OnUnselected = func(widget.ListItemID) { s.sel = -1; s.selectionChanged() }
	s.empty = widget.NewLabel("No key sets yet. Generate one above, import a CPIX document, or package with " +
		"“(generate new keys)”: the generated keys are saved here.")
	s.empty.Wrapping = fyne.TextWrapWord
	name := widget.NewEntry()
	name.SetPlaceHolder("new key set name")
	types := widget.NewCheckGroup(drm.TrackTypes, nil)
	types.Horizontal = true
	types.SetSelected([]string{drm.TrackAudio, drm.TrackSD, drm.TrackHD})
	s.genBtn = widget.NewButtonWithIcon("Generate", keyIcon, func() {
		if _, err := a.svc.GenerateKeySet(name.Text, types.Selected); err != nil {
			a.showErr(err)
			return
		}
		name.SetText("")
		s.refresh()
	})
	name.OnSubmitted = func(string) { s.genBtn.OnTapped() }
	imp := widget.NewButtonWithIcon("Import CPIX…", theme.FolderOpenIcon(), func() {
		a.openFile([]string{".xml", ".cpix"}, func(path string) {
			n := name.Text
			if n == "" {
				n = shortPath(path)
			}
			f, err := os.Open(path)
			if err == nil {
				_, err = a.svc.ImportCPIX(f, n)
				f.Close()
			}
			if err != nil {
				a.showErr(fmt.Errorf("import %s: %w", filepath.Base(path), err))
				return
			}
			s.refresh()
		})
	})
	s.expBtn = widget.NewButtonWithIcon("Export CPIX…", theme.DocumentSaveIcon(), func() {
		if s.sel < 0 || s.sel >= len(s.sets) {
			return
		}
		ks := s.sets[s.sel]
		a.saveFile(services.FileSafe(ks.Name)+".cpix.xml", func(w fyne.URIWriteCloser) error {
			if err := a.svc.ExportCPIX(ks.Name, w); err != nil {
				return err
			}
			// The CPIX holds the keys in the clear: readable by the owner only.
			if w.URI().Scheme() == "file" {
				if err := os.Chmod(w.URI().Path(), 0o600); err != nil {
					a.log.Warn("restrict the CPIX export to its owner", "path", w.URI().Path(), "err", err)
				}
			}
			return nil
		})
	})
	s.delBtn = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() {
		if s.sel < 0 || s.sel >= len(s.sets) {
			return
		}
		ks := s.sets[s.sel]
		d := dialog.NewConfirm("Delete key set", "Delete "+ks.Name+"? Content packaged with it can no longer be "+
			"licensed from this workspace.", func(ok bool) {
			if ok {
				a.showErr(a.svc.DeleteKeySet(ks.Name))
				s.sel = -1
				s.list.UnselectAll()
				s.refresh()
			}
		}, a.win)
		a.showDialog(d, 0)
	})
	s.selectionChanged()
	warn := widget.NewLabel("Keys are stored encrypted in the workspace. A CPIX export holds the keys in clear: keep it private.")
	warn.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Key sets"),
		container.NewBorder(nil, nil, nil, s.genBtn, name), types, container.NewHBox(imp, s.expBtn, s.delBtn), warn)
	split := container.NewVSplit(container.NewStack(s.list, container.NewVBox(s.empty)), container.NewVScroll(s.detail))
	split.Offset = 0.35
	s.obj = container.NewBorder(top, nil, nil, nil, split)
	return s
}

func (s *keysScreen) showSet(ks services.KeySet) {
	s.detail.Objects = nil
	for _, k := range ks.Keys {
		k := k
		rows := []struct{ label, value string }{
			{"KID (UUID)", k.KID.String()}, {"KID (hex)", k.KID.Hex()}, {"KID (base64)", k.KID.Base64()},
			{"PlayReady LE base64", k.KID.PlayReadyBase64()}, {"FairPlay skd", drm.FairPlaySKD(drm.DefaultFairPlayBase, k.KID)},
		}
		card := container.NewVBox()
		for _, r := range rows {
			v := r.value
			card.Add(container.NewBorder(nil, nil, widget.NewLabel(r.label), s.a.copyButton("Copy", func() string { return v }), widget.NewLabel(v)))
		}
		card.Add(container.NewBorder(nil, nil, widget.NewLabel("Content key"), s.a.copyButton("Copy key", func() string { return k.KeyHex() }), widget.NewLabel("•••••••• (hidden; copy to use)")))
		s.detail.Add(widget.NewCard(k.TrackType, "", card))
	}
	s.detail.Refresh()
}

func (s *keysScreen) refresh() {
	sets, err := s.a.svc.KeySets()
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.sets = sets
	s.empty.Hidden = len(sets) > 0
	if s.sel >= len(sets) {
		s.sel = -1
	}
	s.list.Refresh()
	s.selectionChanged()
}

// selectionChanged enables Export and Delete only with a key set selected.
func (s *keysScreen) selectionChanged() {
	on := s.sel >= 0 && s.sel < len(s.sets)
	enable(s.expBtn, on)
	enable(s.delBtn, on)
	if !on {
		s.detail.Objects = []fyne.CanvasObject{widget.NewLabel("Select a key set to see its key IDs in every " +
			"notation.")}
		s.detail.Refresh()
	}
}
