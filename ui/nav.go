package ui

import (
	"os"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
)

// Sidebar icons Fyne's theme does not have, drawn in the theme's foreground colour.
var (
	keyIcon = theme.NewThemedResource(fyne.NewStaticResource("key.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill-rule="evenodd" `+
			`d="M7 7a5 5 0 1 1 0 10A5 5 0 0 1 7 7zm0 3a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM11.5 10.5H22v3h-1.5v3h-2.5v-3`+
			`h-1.5v2h-2.5v-2h-2.5z"/></svg>`)))
	boxIcon = theme.NewThemedResource(fyne.NewStaticResource("box.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill-rule="evenodd" `+
			`d="M12 2 3 6.5v11L12 22l9-4.5v-11L12 2zm0 2.2 6.6 3.3L12 10.8 5.4 7.5 12 4.2zM5 9.1l6 3v7.6l-6-3V9.1z`+
			`m8 10.6v-7.6l6-3v7.6l-6 3z"/></svg>`)))
)

// navBadge is the count of active jobs on a sidebar row: white on the primary colour.
type navBadge struct {
	obj  *fyne.Container
	bg   *canvas.Circle
	text *canvas.Text
}

// newNavRow is a sidebar row: the icon, the screen's name and a badge (hidden at 0).
func newNavRow() fyne.CanvasObject {
	bg := canvas.NewCircle(theme.Color(theme.ColorNamePrimary))
	t := canvas.NewText("0", theme.Color(theme.ColorNameForegroundOnPrimary))
	t.Alignment = fyne.TextAlignCenter
	t.TextStyle.Bold = true
	t.TextSize = theme.TextSize() * 0.85
	size := canvas.NewRectangle(nil)
	size.SetMinSize(fyne.NewSize(22, 22))
	badge := container.NewStack(size, bg, container.NewCenter(t))
	name := widget.NewLabel("License server")
	name.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, widget.NewIcon(theme.HomeIcon()), container.NewCenter(badge), name)
}

func (a *App) updateNavRow(s *screen, o fyne.CanvasObject) {
	row := o.(*fyne.Container)
	row.Objects[0].(*widget.Label).SetText(s.name)
	row.Objects[1].(*widget.Icon).SetResource(s.icon)
	badge := row.Objects[2].(*fyne.Container).Objects[0].(*fyne.Container)
	n := a.badge(s)
	bg := badge.Objects[1].(*canvas.Circle)
	t := badge.Objects[2].(*fyne.Container).Objects[0].(*canvas.Text)
	bg.FillColor = theme.Color(theme.ColorNamePrimary)
	t.Color = theme.Color(theme.ColorNameForegroundOnPrimary)
	t.Text = strconv.Itoa(n)
	badge.Hidden = n == 0
	badge.Refresh()
}

// navBadgeText returns the badge a sidebar row shows ("" when hidden; tests).
func (a *App) navBadgeText(name string) string {
	for _, s := range a.screens {
		if s.name == name {
			if n := a.badge(s); n > 0 {
				return strconv.Itoa(n)
			}
		}
	}
	return ""
}

// dropped handles files dropped on the window: on Verify the first is verified, on Inspect
// it is inspected; anywhere else the MP4s (and the MP4s of dropped folders) are added as
// assets.
func (a *App) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		paths = append(paths, u.Path())
	}
	if len(paths) == 0 {
		return
	}
	switch a.current {
	case ScreenVerify:
		a.verify.path.SetText(paths[0])
		a.verify.start()
	case ScreenInspect:
		a.inspect.path.SetText(paths[0])
		a.inspect.load()
	default:
		a.Show(ScreenAssets)
		a.assets.drop(a.assets.expand(paths)) // masters go to the encoder tab
	}
}

// addPaths adds files, and the media files of folders, as assets.
func (s *assetsScreen) addPaths(paths []string) { s.add(s.expand(paths)) }

// expand replaces folders by the media files in them.
func (s *assetsScreen) expand(paths []string) []string {
	var files []string
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			found, err := services.MediaFiles(p)
			if err != nil {
				s.a.showErr(err)
			}
			files = append(files, found...)
			continue
		}
		files = append(files, p)
	}
	return files
}

// publishFrom shows the Publish screen with dir as the package to publish.
func (a *App) publishFrom(dir string) {
	a.Show(ScreenPublish)
	a.publish.src.SetText(dir)
	a.publish.offered = dir
}

// verifyNow shows the Verify screen and verifies path.
func (a *App) verifyNow(path string) {
	a.Show(ScreenVerify)
	a.verify.path.SetText(path)
	a.verify.offered = path
	a.verify.start()
}
