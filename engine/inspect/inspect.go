// Package inspect builds a browsable box tree of an MP4 file (progressive, fragmented, init
// segment or media segment) with the DRM boxes decoded: pssh (Widevine WidevinePsshData,
// PlayReady PRO/WRMHEADER, W3C common v1), tenc, schm, senc, saiz and saio.
//
// It reads boxes with mp4ff in lazy-mdat mode, so media payloads are never loaded: memory
// grows with the number of boxes, not with the file size.
package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/internal/mp4safe"
)

// Node is one box in the tree.
type Node struct {
	// Type is the four-character box type, e.g. "moov" or "pssh".
	Type string `json:"type"`
	// Size is the full box size in bytes, header included.
	Size uint64 `json:"size"`
	// Offset is the byte offset of the box in the file. It is known for top-level boxes and for
	// boxes inside containers whose children follow the 8-byte header directly; -1 otherwise.
	Offset int64 `json:"offset"`
	// Fields are the box's own decoded fields, one "name: value" per entry.
	Fields []string `json:"fields,omitempty"`
	// DRM is a decoded summary for DRM boxes (pssh system, KIDs, PlayReady header, …).
	DRM []string `json:"drm,omitempty"`
	// Children are the contained boxes, in file order.
	Children []*Node `json:"children,omitempty"`
}

// Title is a one-line label for tree views: "[pssh] 1234 bytes @ 0x2f0".
func (n *Node) Title() string {
	if n.Offset >= 0 {
		return fmt.Sprintf("[%s] %d bytes @ %#x", n.Type, n.Size, n.Offset)
	}
	return fmt.Sprintf("[%s] %d bytes", n.Type, n.Size)
}

// File inspects the MP4 at path and returns its top-level boxes.
func File(ctx context.Context, path string) ([]*Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	defer f.Close()
	return Reader(ctx, f, path)
}

// ErrNotMP4 is wrapped by the errors of Reader and File for input that is not made of MP4
// boxes (whatever its name says).
var ErrNotMP4 = errors.New("not a readable MP4")

// Reader inspects an MP4 read from r; name is used in error messages only. Malformed input
// is an error (through mp4safe), never a panic.
func Reader(ctx context.Context, r io.ReadSeeker, name string) ([]*Node, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", name, err)
	}
	mf, err := mp4safe.DecodeFile(ctx, r, mp4safe.Lazy)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("inspect %s: the file is %w: %w", name, ErrNotMP4, err)
	}
	if len(mf.Children) == 0 {
		return nil, fmt.Errorf("inspect %s: %w: no MP4 boxes found", name, ErrNotMP4)
	}
	var nodes []*Node
	var off int64
	tb := &treeBuilder{ctx: ctx}
	err = mp4safe.Do(func() error {
		for _, b := range mf.Children {
			n, err := tb.node(b, off)
			if err != nil {
				return err
			}
			nodes = append(nodes, n)
			off += int64(b.Size())
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("inspect %s: %w", name, err)
	}
	if off > size {
		return nil, fmt.Errorf("inspect %s: the file is truncated: its boxes need %d bytes but it has %d; download or export it again", name, off, size)
	}
	return nodes, nil
}

// headerSize is the number of bytes between a container box's start and its first child, for
// the containers whose children follow their header directly.
func headerSize(b mp4.Box) int64 {
	switch b.Type() {
	case "moov", "trak", "mdia", "minf", "stbl", "dinf", "edts", "mvex", "moof", "traf", "udta", "sinf", "schi", "mfra":
		return 8
	}
	return -1
}

// children returns a box's child boxes, including those of stsd and the sample entries
// (encv/enca → sinf → schm/tenc), which mp4ff does not expose as containers.
func children(b mp4.Box) []mp4.Box {
	switch x := b.(type) {
	case *mp4.StsdBox:
		return x.Children
	case *mp4.VisualSampleEntryBox:
		return x.Children
	case *mp4.AudioSampleEntryBox:
		return x.Children
	case mp4.ContainerBox:
		return x.GetChildren()
	}
	return nil
}

// treeBuilder builds Nodes, checking for cancellation every checkEvery boxes. The recursion
// is bounded: mp4safe refused trees deeper than its limit before mp4ff decoded them.
type treeBuilder struct {
	ctx   context.Context
	boxes int
}

const checkEvery = 256

func (tb *treeBuilder) node(b mp4.Box, offset int64) (*Node, error) {
	if tb.boxes++; tb.boxes%checkEvery == 0 {
		if err := tb.ctx.Err(); err != nil {
			return nil, err
		}
	}
	n := &Node{Type: b.Type(), Size: b.Size(), Offset: offset}
	n.Fields = ownFields(b)
	n.DRM = drmDetails(b)
	if kids := children(b); kids != nil {
		hs := headerSize(b)
		childOff := int64(-1)
		if offset >= 0 && hs >= 0 {
			childOff = offset + hs
		}
		for _, ch := range kids {
			c, err := tb.node(ch, childOff)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, c)
			if childOff >= 0 {
				childOff += int64(ch.Size())
			}
		}
	}
	return n, nil
}

// ownFields runs the box's mp4ff Info printer and keeps the box's own field lines, dropping the
// header line and the lines of its children.
//
// The printer writes through a fieldWriter that stops it after maxFields lines or at the first
// child box, so a container is not printed with its whole subtree (which made the tree cost
// quadratic time) and a million-entry table costs no more than its first lines.
func ownFields(b mp4.Box) []string {
	var buf bytes.Buffer
	fw := &fieldWriter{buf: &buf}
	if err := b.Info(fw, "all:1", "", "  "); err != nil && !errors.Is(err, errEnough) {
		return []string{"info error: " + err.Error()}
	}
	var out []string
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for _, line := range lines[1:] {
		if strings.HasPrefix(line, " - ") {
			out = append(out, strings.TrimPrefix(line, " - "))
			continue
		}
		if strings.HasPrefix(strings.TrimLeft(line, " "), "[") {
			break // a child box starts
		}
		if len(out) > 0 && strings.HasPrefix(line, "   ") {
			out[len(out)-1] += " " + strings.TrimSpace(line)
		}
	}
	if fw.cut {
		out = append(out, "… more lines not shown")
	}
	return out
}

// maxFields is the number of field lines kept per box: senc/trun/stsz tables can be huge; the
// tree shows their start.
const maxFields = 200

// errEnough stops mp4ff's Info printer once fieldWriter has what ownFields keeps.
var errEnough = errors.New("enough lines")

// fieldWriter passes a box's Info lines to buf until maxFields lines or the header of a child
// box ("[type] size=…" after the first line), then fails every write so the printer stops.
type fieldWriter struct {
	buf     *bytes.Buffer
	lines   int
	stopped bool // once stopped, every write fails (nested printers start afresh)
	cut     bool // stopped at maxFields (not at a child)
}

func (w *fieldWriter) Write(p []byte) (int, error) {
	if w.stopped {
		return 0, errEnough
	}
	if w.lines > 0 && bytes.HasPrefix(bytes.TrimLeft(p, " "), []byte("[")) {
		w.stopped = true
		return 0, errEnough
	}
	if w.lines > maxFields {
		w.stopped, w.cut = true, true
		return 0, errEnough
	}
	w.lines += bytes.Count(p, []byte("\n"))
	return w.buf.Write(p)
}

// drmDetails decodes the DRM meaning of protection boxes beyond mp4ff's raw fields.
func drmDetails(b mp4.Box) []string {
	switch box := b.(type) {
	case *mp4.PsshBox:
		info, err := drm.DecodePSSH(box)
		if err != nil {
			return []string{"could not decode: " + err.Error()}
		}
		return strings.Split(strings.TrimRight(info.Summary, "\n"), "\n")
	case *mp4.TencBox:
		kid, _ := drm.ParseKID(hexOf(box.DefaultKID))
		d := []string{
			"default KID: " + kid.String() + " (PlayReady LE base64 " + kid.PlayReadyBase64() + ")",
			fmt.Sprintf("protected: %t, per-sample IV size: %d", box.DefaultIsProtected == 1, box.DefaultPerSampleIVSize),
		}
		if box.DefaultPerSampleIVSize == 0 {
			d = append(d, fmt.Sprintf("constant IV: %x (cbcs style)", box.DefaultConstantIV))
		}
		if box.Version > 0 {
			d = append(d, fmt.Sprintf("pattern crypt:skip = %d:%d", box.DefaultCryptByteBlock, box.DefaultSkipByteBlock))
		}
		return d
	case *mp4.SchmBox:
		switch box.SchemeType {
		case "cenc":
			return []string{"scheme cenc: AES-CTR full-sample/subsample encryption (DASH: Widevine, PlayReady, ClearKey)"}
		case "cbcs":
			return []string{"scheme cbcs: AES-CBC pattern encryption with a constant IV (HLS FairPlay, modern DASH clients)"}
		case "cbc1", "cens":
			return []string{"scheme " + box.SchemeType + ": rarely supported by players; prefer cenc or cbcs"}
		}
	case *mp4.SencBox:
		return []string{fmt.Sprintf("%d samples with auxiliary info, per-sample IV size %d", box.SampleCount, box.GetPerSampleIVSize())}
	case *mp4.UUIDBox:
		return piffDetails(box)
	}
	return nil
}

// piffDetails decodes the PIFF 1.1 uuid boxes (track encryption, sample encryption, pssh).
func piffDetails(box *mp4.UUIDBox) []string {
	switch {
	case box.PiffTenc != nil:
		kid, _ := drm.ParseKID(hexOf(box.PiffTenc.KID))
		alg := map[uint32]string{0: "not encrypted", 1: "AES-CTR (cenc)", 2: "AES-CBC"}[box.PiffTenc.AlgorithmID]
		return []string{"PIFF track encryption: " + alg + ", IV size " + fmt.Sprint(box.PiffTenc.IVSize),
			"default KID: " + kid.String() + " (PlayReady LE base64 " + kid.PlayReadyBase64() + ")"}
	case box.Senc != nil:
		return []string{fmt.Sprintf("PIFF sample encryption: %d samples", box.Senc.SampleCount)}
	}
	p, ok := cenc.PIFFPssh(box)
	if !ok {
		return nil
	}
	info, err := drm.DecodePSSH(p)
	if err != nil {
		return []string{"PIFF pssh: could not decode: " + err.Error()}
	}
	return append([]string{"PIFF pssh"}, strings.Split(strings.TrimRight(info.Summary, "\n"), "\n")...)
}

func hexOf(u mp4.UUID) string { return fmt.Sprintf("%x", []byte(u)) }

// Find returns the nodes of the given box type anywhere in the tree, in file order.
func Find(nodes []*Node, boxType string) []*Node {
	var out []*Node
	for _, n := range nodes {
		if n.Type == boxType {
			out = append(out, n)
		}
		out = append(out, Find(n.Children, boxType)...)
	}
	return out
}

// WriteText prints the tree with two-space indentation, fields under each box.
func WriteText(w io.Writer, nodes []*Node) error {
	var walk func(ns []*Node, depth int) error
	walk = func(ns []*Node, depth int) error {
		pad := strings.Repeat("  ", depth)
		for _, n := range ns {
			if _, err := fmt.Fprintf(w, "%s%s\n", pad, n.Title()); err != nil {
				return err
			}
			for _, f := range n.Fields {
				fmt.Fprintf(w, "%s  - %s\n", pad, f)
			}
			for _, d := range n.DRM {
				fmt.Fprintf(w, "%s  * %s\n", pad, d)
			}
			if err := walk(n.Children, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(nodes, 0)
}

// WriteJSON prints the tree as one JSON document.
func WriteJSON(w io.Writer, nodes []*Node) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(nodes); err != nil {
		return errors.Join(errors.New("write inspect json"), err)
	}
	return nil
}
