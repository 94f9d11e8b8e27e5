package ui

import "fyne.io/fyne/v2"

// drawn is the part every canvas-drawn renderer shares (the charts, the segment chart and
// the license timeline): the objects of its last build, at the size it was laid out at. Each
// renderer embeds it and rebuilds objects in its own Layout and Refresh.
type drawn struct {
	objects []fyne.CanvasObject
	size    fyne.Size
}

// Destroy implements fyne.WidgetRenderer; it holds nothing to release.
func (d *drawn) Destroy() {}

// Objects implements fyne.WidgetRenderer.
func (d *drawn) Objects() []fyne.CanvasObject { return d.objects }
