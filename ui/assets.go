package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
)

// assetsScreen has two tabs: the probed source renditions with ladder checkboxes and GOP
// alignment, and the encoder that makes such renditions from one master (encodeView).
type assetsScreen struct {
	a       *App
	obj     fyne.CanvasObject
	tabs    *container.AppTabs
	encTab  *container.TabItem
	enc     *encodeView
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
	hint := widget.NewLabel("Add the renditions of one title (or drop MP4 files on the window). Ticked rows form the " +
		"bitrate ladder; their GOPs must line up. Only have a master? Encode the ladder from it in the next tab.")
	hint.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Assets"), hint, container.NewHBox(add, addDir, remove), s.ladder)
	split := container.NewVSplit(s.list, s.lowerPane())
	split.Offset = 0.45
	s.enc = newEncodeView(a)
	s.enc.onDone = s.refresh // the encoded rungs became the selected assets
	s.encTab = container.NewTabItem("Encode from master", s.enc.obj)
	s.tabs = container.NewAppTabs(container.NewTabItem("Renditions", container.NewBorder(top, nil, nil, nil, split)),
		s.encTab)
	s.tabs.OnSelected = func(t *container.TabItem) {
		if t == s.encTab {
			s.enc.refresh()
		}
	}
	s.obj = s.tabs
	return s
}

// drop takes files dropped on the window: masters go to the encoder (any file while its tab
// is showing, else files that are not MP4-family renditions), the others are added as
// renditions.
func (s *assetsScreen) drop(paths []string) {
	var renditions []string
	master := ""
	for _, p := range paths {
		if s.tabs.Selected() == s.encTab || !slices.Contains(renditionExtensions, strings.ToLower(filepath.Ext(p))) {
			if master == "" {
				master = p
			}
			continue
		}
		renditions = append(renditions, p)
	}
	if master != "" {
		s.tabs.Select(s.encTab)
		s.enc.setMaster(master)
	}
	if len(renditions) > 0 {
		if master == "" {
			s.tabs.SelectIndex(0)
		}
		s.add(renditions)
	}
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
	if s.tabs.Selected() == s.encTab {
		s.enc.refresh()
	}
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
