package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/inspect"
)

// inspectScreen shows the box tree of any MP4 with decoded DRM boxes.
type inspectScreen struct {
	a       *App
	obj     fyne.CanvasObject
	path    *widget.Entry
	nodes   []*inspect.Node
	index   map[string]*inspect.Node
	tree    *widget.Tree
	detail  *widget.Label
	loadBtn *widget.Button
}

func newInspectScreen(a *App) *inspectScreen {
	s := &inspectScreen{a: a, index: map[string]*inspect.Node{}}
	s.path = widget.NewEntry()
	s.path.SetPlaceHolder("an MP4 file (init segment, segment, single file), or drop one on the window")
	open := widget.NewButton("Open…", func() {
		a.openFile(nil, func(path string) {
			s.path.SetText(path)
			s.load()
		})
	})
	s.loadBtn = widget.NewButtonWithIcon("Inspect", theme.SearchIcon(), s.load)
	s.loadBtn.Importance = widget.HighImportance
	submitRuns(s.loadBtn, s.path)
	s.detail = widget.NewLabel("Open an MP4 to see its boxes; select a box for its fields.")
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
		container.NewBorder(nil, nil, nil, container.NewHBox(open, s.loadBtn), s.path))
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
	s.show(nil, "Reading "+filepath.Base(p)+"…") // never the previous file's tree under the new path
	go func() {
		nodes, err := services.Inspect(s.a.ctx, p)
		fyne.Do(func() {
			if strings.TrimSpace(s.path.Text) != p {
				return // another file was chosen meanwhile
			}
			if err != nil {
				s.show(nil, inspectProblem(p, err))
				return
			}
			s.show(nodes, fmt.Sprintf("%d top-level boxes. Boxes marked 🔑 carry decoded DRM details (pssh, PRO, tenc, senc, schm). Select a box for its fields.", len(nodes)))
		})
	}()
}

// show replaces the tree with nodes and the detail pane with msg.
func (s *inspectScreen) show(nodes []*inspect.Node, msg string) {
	s.nodes = nodes
	s.index = map[string]*inspect.Node{}
	s.tree.UnselectAll()
	s.tree.Refresh()
	s.detail.SetText(msg)
}

// inspectProblem says plainly why a file could not be inspected.
func inspectProblem(path string, err error) string {
	name := filepath.Base(path)
	if errors.Is(err, inspect.ErrNotMP4) {
		return fmt.Sprintf("%s is not an MP4 file Satchel can read: it is not made of MP4 boxes (ftyp, moov, "+
			"moof…), whatever its name says. Choose an init segment, a media segment or a single-file MP4 "+
			"(a package's cenc/360p/init.mp4, download/360p.mp4).", name)
	}
	msg := err.Error()
	if i := strings.Index(msg, path+": "); i >= 0 {
		msg = msg[i+len(path)+2:]
	}
	return fmt.Sprintf("Cannot inspect %s: %s", name, msg)
}
