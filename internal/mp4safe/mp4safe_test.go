package mp4safe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testMedia = "../../testdata/media/"

// nested returns n boxes of type typ nested in each other, with an 8-byte free box innermost.
func nested(typ string, n int) []byte {
	b := make([]byte, 8*(n+1))
	for i := 0; i <= n; i++ {
		binary.BigEndian.PutUint32(b[8*i:], uint32(8*(n+1-i)))
		t := typ
		if i == n {
			t = "free"
		}
		copy(b[8*i+4:], t)
	}
	return b
}

func box(typ string, payload ...[]byte) []byte {
	p := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(p)))
	return append(append(b, typ...), p...)
}

func TestRealFilesPass(t *testing.T) {
	files, _ := filepath.Glob(testMedia + "*")
	if len(files) == 0 {
		t.Fatal("no test media; run testdata/make.sh")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			mf, err := DecodeFile(context.Background(), fh, Lazy)
			if err != nil {
				t.Fatalf("DecodeFile: %v", err)
			}
			if mf.Moov == nil && (mf.Init == nil || mf.Init.Moov == nil) {
				t.Fatal("no moov decoded")
			}
			raw, _ := os.ReadFile(f)
			if _, err := DecodeBytes(context.Background(), raw); err != nil {
				t.Fatalf("DecodeBytes: %v", err)
			}
		})
	}
}

func TestHostileTrees(t *testing.T) {
	ftyp := box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2"))
	sampleEntry := func(inner []byte) []byte { return box("avc1", make([]byte, 78), inner) }
	deepEntry := box("free")
	for i := 0; i < 40; i++ {
		deepEntry = sampleEntry(deepEntry)
	}
	many := ftyp
	for i := 0; i < 200; i++ {
		many = append(many, box("free")...)
	}
	for _, c := range []struct {
		name      string
		in        []byte
		lim       Limits
		want      string
		truncated bool
	}{
		{"million nested moov", nested("moov", 1_000_000), Limits{}, "nested more than 32 deep", false},
		{"nested sample entries", append(ftyp, box("moov", box("trak", box("mdia", box("minf", box("stbl",
			box("stsd", []byte{0, 0, 0, 0, 0, 0, 0, 1}, deepEntry))))))...), Limits{}, "nested more than 32 deep", false},
		{"too many boxes", many, Limits{MaxBoxes: 100}, "more than 100 boxes", false},
		{"truncated", append(ftyp, 0, 0, 1, 0, 'm', 'd', 'a', 't', 1, 2, 3), Limits{}, "claims 256 bytes but the file has only 11 left", true},
		{"child past parent", append(ftyp, box("moov", []byte{0, 0, 0, 64, 't', 'r', 'a', 'k'})...), Limits{}, "", false},
		{"size smaller than header", append(ftyp, 0, 0, 0, 4, 'f', 'r', 'e', 'e'), Limits{}, "smaller than its own header", false},
		{"stray bytes", append(ftyp, 1, 2, 3), Limits{}, "3 stray bytes", true},
		{"64-bit size cut off", append(ftyp, 0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0), Limits{}, "64-bit size field is cut off", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := Scan(context.Background(), bytes.NewReader(c.in), int64(len(c.in)), c.lim)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s, want < 1s", d)
			}
			var me *Error
			if c.want == "" {
				// A child running past its parent makes the parent a leaf: mp4ff treats unknown
				// payloads the same way, so this must not fail the scan.
				if err != nil {
					t.Fatalf("Scan = %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Scan = %v, want an *Error containing %q", err, c.want)
			}
			if me.Truncated() != c.truncated || errors.Is(err, ErrTruncated) != c.truncated {
				t.Errorf("Truncated() = %v, want %v", me.Truncated(), c.truncated)
			}
		})
	}
}

// countingReader counts the reads Scan makes.
type countingReader struct {
	r     *bytes.Reader
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

func TestDecodeFileRejectsDeepNestingFast(t *testing.T) {
	in := nested("moov", 1_000_000)
	// The work is bounded by the depth limit, not by the input: a few reads per level.
	c := &countingReader{r: bytes.NewReader(in)}
	if err := Scan(context.Background(), c, int64(len(in)), Limits{}); err == nil {
		t.Fatal("Scan accepted a million nested boxes")
	}
	if c.reads > 4*DefaultLimits.MaxDepth {
		t.Errorf("Scan made %d reads for a million nested boxes, want at most %d", c.reads, 4*DefaultLimits.MaxDepth)
	}
	start := time.Now()
	_, err := DecodeFile(context.Background(), bytes.NewReader(in), Full)
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("DecodeFile = %v, want *Error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s, want < 1s", d)
	}
}

func TestScanHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := nested("moov", 10)
	if err := Scan(ctx, bytes.NewReader(in), int64(len(in)), Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan = %v, want context.Canceled", err)
	}
}

func TestDoTurnsPanicIntoError(t *testing.T) {
	err := Do(func() error { var m map[string]int; m["x"] = 1; return nil })
	var me *Error
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "decoder failed") {
		t.Fatalf("Do = %v", err)
	}
	if err := Do(func() error { return nil }); err != nil {
		t.Fatalf("Do = %v", err)
	}
}

func TestDecodeBox(t *testing.T) {
	if _, err := DecodeBox(nested("moov", 100)); err == nil {
		t.Fatal("DecodeBox accepted 100 nested boxes")
	}
	b, err := DecodeBox(box("free", []byte("abc")))
	if err != nil || b.Type() != "free" {
		t.Fatalf("DecodeBox = %v, %v", b, err)
	}
}

func FuzzDecodeFile(f *testing.F) {
	for _, n := range []string{"ladder_240p.mp4", "fragmented_360p.mp4"} {
		if b, err := os.ReadFile(testMedia + n); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Add(nested("moov", 40))
	f.Add(box("moov", box("trak", box("tkhd"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		mf, err := DecodeBytes(context.Background(), b)
		if err == nil && mf == nil {
			t.Fatal("nil file without error")
		}
	})
}

// TestReadAhead: reads of any size and position, across window edges and past the end, give
// what the input holds.
func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*bufSize+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	r := ReadAhead(bytes.NewReader(data), int64(len(data)))
	for _, c := range []struct{ off, n int }{{0, 8}, {bufSize - 4, 8}, {2*bufSize + 5, 100}, {10, bufSize}, {len(data) - 3, 3}} {
		p := make([]byte, c.n)
		if n, err := r.ReadAt(p, int64(c.off)); err != nil || n != c.n || !bytes.Equal(p, data[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", c.off, c.n, n, err)
		}
	}
	if _, err := r.ReadAt(make([]byte, 8), int64(len(data)-3)); err == nil {
		t.Fatal("a read past the end succeeded")
	}
	r.Seek(int64(len(data)-5), 0)
	b, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(b, data[len(data)-5:]) {
		t.Fatalf("Read to the end: %d bytes, %v", len(b), err)
	}
}
