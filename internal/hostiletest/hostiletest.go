// Package hostiletest makes crafted MP4 files for tests of Satchel's defences against hostile
// input: boxes nested a million deep, a track header renamed, millions of tiny boxes. It is
// for tests only.
package hostiletest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// ftyp is a plain isom file type box.
var ftyp = box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2"))

func box(typ string, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(payload)))
	return append(append(b, typ...), payload...)
}

// NestedMoov returns an ftyp box followed by n moov boxes nested in each other (a free box
// innermost): 8·n bytes, the file the issue tracker calls "a million nested moov".
func NestedMoov(n int) []byte {
	b := make([]byte, len(ftyp)+8*(n+1))
	copy(b, ftyp)
	nb := b[len(ftyp):]
	for i := 0; i <= n; i++ {
		binary.BigEndian.PutUint32(nb[8*i:], uint32(8*(n+1-i)))
		t := "moov"
		if i == n {
			t = "free"
		}
		copy(nb[8*i+4:], t)
	}
	return b
}

// RenameBox returns a copy of mp4 with the type of the first box of type from (found by its
// four-character code preceded by a plausible size) changed to to.
func RenameBox(mp4 []byte, from, to string) ([]byte, error) {
	out := append([]byte(nil), mp4...)
	for off := 0; ; {
		i := bytes.Index(out[off:], []byte(from))
		if i < 0 {
			return nil, fmt.Errorf("no %s box", from)
		}
		at := off + i
		if at >= 4 {
			size := binary.BigEndian.Uint32(out[at-4:])
			if size >= 8 && int(size) <= len(out)-(at-4) {
				copy(out[at:], to)
				return out, nil
			}
		}
		off = at + 1
	}
}

// ManyBoxes returns head followed by n empty free boxes (8 bytes each).
func ManyBoxes(head []byte, n int) []byte {
	b := make([]byte, len(head)+8*n)
	copy(b, head)
	for i := 0; i < n; i++ {
		p := b[len(head)+8*i:]
		binary.BigEndian.PutUint32(p, 8)
		copy(p[4:], "free")
	}
	return b
}

// WithoutTrackHeader returns the MP4 file at path with its first track header (tkhd) renamed
// to free: the crafted file of issue 16 that crashed probe and verify. It fails t when the
// file cannot be read or has no tkhd.
func WithoutTrackHeader(t testing.TB, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := RenameBox(src, "tkhd", "free")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
