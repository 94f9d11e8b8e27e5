package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
)

// assetsScreen lists probed source renditions with ladder checkboxes and GOP alignment.
type assetsScreen struct {
	a       *App
	obj     fyne.CanvasObject
	entries []services.AssetEntry
	list    *widget.List
	ladder  *widget.Label
	detail  *widget.Label
	sel     int
	pics    *assetPictures
	onAdded func()            // tests
	onThumb func(path string) // tests: a first frame was decoded
}

func newAssetsScreen(a *App) *assetsScreen {
	s := &assetsScreen{a: a, sel: -1}
	s.ladder = widget.NewLabel("")
	s.ladder.Wrapping = fyne.TextWrapWord
	s.detail = widget.NewLabel("Select an asset to see its tracks and GOPs.")
	s.detail.Wrapping = fyne.TextWrapWord
	s.list = widget.NewList(func() int { return len(s.entries) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, widget.NewCheck("", nil), nil, widget.NewLabel("asset"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			e := s.entries[i]
			row := o.(*fyne.Container)
			lbl := row.Objects[0].(*widget.Label)
			chk := row.Objects[1].(*widget.Check)
			lbl.SetText(assetLine(e))
			chk.OnChanged = nil
			chk.SetChecked(e.Selected)
			id := e.ID
			chk.OnChanged = func(v bool) {
				if err := a.svc.SetSelected(id, v); err != nil {
					a.showErr(err)
				}
				s.refresh()
			}
		})
	s.list.OnSelected = func(i widget.ListItemID) {
		s.sel = i
		var b strings.Builder
		s.entries[i].Asset.WriteText(&b)
		s.detail.SetText(b.String())
		s.pics.showAsset(s.entries[i])
	}
	add := widget.NewButtonWithIcon("Add MP4…", theme.ContentAddIcon(), func() {
		a.openFile(services.MediaExtensions, func(path string) { s.add([]string{path}) })
	})
	addDir := widget.NewButtonWithIcon("Add folder…", theme.FolderOpenIcon(), func() {
		a.openFolder(func(dir string) { s.addPaths([]string{dir}) })
	})
	remove := widget.NewButton("Remove", func() {
		if s.sel < 0 || s.sel >= len(s.entries) {
			return
		}
		if err := a.svc.RemoveAsset(s.entries[s.sel].ID); err != nil {
			a.showErr(err)
		}
		s.sel = -1
		s.list.UnselectAll()
		s.refresh()
	})
	hint := widget.NewLabel("Add the renditions of one title (or drop MP4 files on the window). Ticked rows form the bitrate ladder; their GOPs must line up.")
	hint.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Assets"), hint, container.NewHBox(add, addDir, remove), s.ladder)
	split := container.NewVSplit(s.list, s.lowerPane())
	split.Offset = 0.45
	s.obj = container.NewBorder(top, nil, nil, nil, split)
	return s
}

func assetLine(e services.AssetEntry) string {
	a := e.Asset
	parts := []string{fmt.Sprintf("%-28s", shortPath(e.Path))}
	if v := a.Video(); v != nil {
		parts = append(parts, fmt.Sprintf("%dx%d %s", v.Width, v.Height, v.Codec))
	}
	if au := a.Audio(); au != nil {
		parts = append(parts, au.Codec)
	}
	parts = append(parts, fmt.Sprintf("%d kb/s", a.Bitrate/1000), fmt.Sprintf("%.1fs", a.Duration.Seconds()))
	if v := a.Video(); v != nil {
		parts = append(parts, fmt.Sprintf("%d GOPs", len(v.SyncTimes)))
	}
	return strings.Join(parts, "  ·  ")
}

// shortPath is the file name of p, with the platform's separators (\ and / on Windows).
func shortPath(p string) string { return filepath.Base(p) }

// add probes files off the UI goroutine, then refreshes and reports failures.
func (s *assetsScreen) add(paths []string) {
	go func() {
		var errs []error
		for _, p := range paths {
			if _, err := s.a.svc.AddAsset(s.a.ctx, p); err != nil {
				errs = append(errs, err)
			}
		}
		fyne.Do(func() {
			s.refresh()
			s.a.showErr(errors.Join(errs...))
			if s.onAdded != nil {
				s.onAdded()
			}
		})
	}()
}

func (s *assetsScreen) refresh() {
	list, err := s.a.svc.Assets()
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.entries = list
	s.list.Refresh()
	s.pics.refresh()
	paths, err := s.a.svc.SelectedLadder()
	switch {
	case errors.Is(err, services.ErrNoSelection):
		s.ladder.SetText("No rendition selected.")
	case err != nil:
		s.ladder.SetText("⚠ " + err.Error())
	default:
		s.ladder.SetText(fmt.Sprintf("✓ Ladder of %d renditions: GOPs aligned.", len(paths)))
	}
}
