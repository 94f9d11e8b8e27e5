package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/inspect"
)

// inspectScreen shows the box tree of any MP4 with decoded DRM boxes.
type inspectScreen struct {
	a      *App
	obj    fyne.CanvasObject
	path   *widget.Entry
	nodes  []*inspect.Node
	index  map[string]*inspect.Node
	tree   *widget.Tree
	detail *widget.Label
}

func newInspectScreen(a *App) *inspectScreen {
	s := &inspectScreen{a: a, index: map[string]*inspect.Node{}}
	s.path = widget.NewEntry()
	s.path.SetPlaceHolder("an MP4 file (init segment, segment, single file)")
	open := widget.NewButton("Open…", func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err == nil && r != nil {
				r.Close()
				s.path.SetText(r.URI().Path())
				s.load()
			}
		}, a.win)
	})
	load := widget.NewButton("Inspect", s.load)
	s.detail = widget.NewLabel("Select a box.")
	s.detail.Wrapping = fyne.TextWrapWord
	s.tree = widget.NewTree(
		func(uid widget.TreeNodeID) []widget.TreeNodeID {
			var kids []*inspect.Node
			if uid == "" {
				kids = s.nodes
			} else if n := s.index[uid]; n != nil {
				kids = n.Children
			}
			out := make([]string, len(kids))
			for i := range kids {
				if uid == "" {
					out[i] = strconv.Itoa(i)
				} else {
					out[i] = uid + "." + strconv.Itoa(i)
				}
				s.index[out[i]] = kids[i]
			}
			return out
		},
		func(uid widget.TreeNodeID) bool {
			return uid == "" || (s.index[uid] != nil && len(s.index[uid].Children) > 0)
		},
		func(bool) fyne.CanvasObject { return widget.NewLabel("box") },
		func(uid widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
			if n := s.index[uid]; n != nil {
				txt := n.Title()
				if len(n.DRM) > 0 {
					txt += "  🔑"
				}
				o.(*widget.Label).SetText(txt)
			}
		})
	s.tree.OnSelected = func(uid widget.TreeNodeID) {
		n := s.index[uid]
		if n == nil {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s — %d bytes at offset %d\n\n", n.Type, n.Size, n.Offset)
		for _, d := range n.DRM {
			b.WriteString("• " + d + "\n")
		}
		if len(n.DRM) > 0 {
			b.WriteString("\n")
		}
		for _, f := range n.Fields {
			b.WriteString(f + "\n")
		}
		s.detail.SetText(b.String())
	}
	top := container.NewVBox(heading("Inspect"),
		container.NewBorder(nil, nil, nil, container.NewHBox(open, load), s.path))
	split := container.NewHSplit(s.tree, container.NewVScroll(s.detail))
	split.Offset = 0.45
	s.obj = container.NewBorder(top, nil, nil, nil, split)
	return s
}

func (s *inspectScreen) load() {
	p := strings.TrimSpace(s.path.Text)
	if p == "" {
		return
	}
	s.a.run(func() error {
		nodes, err := services.Inspect(s.a.ctx, p)
		if err != nil {
			return err
		}
		fyne.Do(func() {
			s.nodes = nodes
			s.index = map[string]*inspect.Node{}
			s.tree.Refresh()
			s.detail.SetText(fmt.Sprintf("%d top-level boxes. Boxes marked 🔑 carry decoded DRM details (pssh, PRO, tenc, senc, schm).", len(nodes)))
		})
		return nil
	}, nil)
}
