package ui

import (
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
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
	detail *fyne.Container
	sel    int
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
	s.list.OnSelected = func(i widget.ListItemID) { s.sel = i; s.showSet(s.sets[i]) }
	name := widget.NewEntry()
	name.SetPlaceHolder("new key set name")
	types := widget.NewCheckGroup(drm.TrackTypes, nil)
	types.Horizontal = true
	types.SetSelected([]string{drm.TrackAudio, drm.TrackSD, drm.TrackHD})
	gen := widget.NewButton("Generate", func() {
		if _, err := a.svc.GenerateKeySet(name.Text, types.Selected); err != nil {
			a.showErr(err)
			return
		}
		name.SetText("")
		s.refresh()
	})
	imp := widget.NewButton("Import CPIX…", func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			defer r.Close()
			n := name.Text
			if n == "" {
				n = shortPath(r.URI().Path())
			}
			if _, err := a.svc.ImportCPIX(r, n); err != nil {
				a.showErr(fmt.Errorf("import %s: %w", r.URI().Name(), err))
				return
			}
			s.refresh()
		}, a.win)
	})
	exp := widget.NewButton("Export CPIX…", func() {
		if s.sel < 0 {
			a.showErr(fmt.Errorf("select a key set to export"))
			return
		}
		ks := s.sets[s.sel]
		dialog.ShowFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			defer w.Close()
			if err := a.svc.ExportCPIX(ks.Name, w); err != nil {
				a.showErr(err)
				return
			}
			// The CPIX holds the keys in the clear: readable by the owner only.
			if w.URI().Scheme() == "file" {
				if err := os.Chmod(w.URI().Path(), 0o600); err != nil {
					a.log.Warn("restrict the CPIX export to its owner", "path", w.URI().Path(), "err", err)
				}
			}
		}, a.win)
	})
	del := widget.NewButton("Delete", func() {
		if s.sel < 0 {
			return
		}
		ks := s.sets[s.sel]
		dialog.ShowConfirm("Delete key set", "Delete "+ks.Name+"? Content packaged with it can no longer be licensed from this workspace.", func(ok bool) {
			if ok {
				a.showErr(a.svc.DeleteKeySet(ks.Name))
				s.sel = -1
				s.refresh()
			}
		}, a.win)
	})
	warn := widget.NewLabel("Keys are stored encrypted in the workspace. A CPIX export holds the keys in clear: keep it private.")
	warn.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Key sets"),
		container.NewBorder(nil, nil, nil, gen, name), types, container.NewHBox(imp, exp, del), warn)
	split := container.NewVSplit(s.list, container.NewVScroll(s.detail))
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
	s.list.Refresh()
}
