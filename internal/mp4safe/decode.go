package mp4safe

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Mode chooses how DecodeFile reads media data.
type Mode int

const (
	// Lazy leaves mdat payloads on disk (progressive files, large single files); the caller
	// reads samples through the reader it passed.
	Lazy Mode = iota
	// Full reads everything into memory (segments and small files).
	Full
)

// DecodeFile scans the whole input (see Scan) and then decodes it with mp4ff. Malformed input
// gives an *Error; a decoder panic is turned into an *Error too. Reads go through a read-ahead
// buffer (one system call per 64 KiB, not per box header), and cancelling ctx returns
// ctx.Err() at once: the decoder finishes in the background, bounded by the scan's limits
// (closing r makes it stop sooner).
func DecodeFile(ctx context.Context, r io.ReadSeeker, mode Mode) (*mp4.File, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("find the size: %w", err)
	}
	br := newBufReader(readerAt(r), size)
	if err := Scan(ctx, br, size, DefaultLimits); err != nil {
		return nil, err
	}
	type result struct {
		mf  *mp4.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		var mf *mp4.File
		err := Do(func() error {
			var derr error
			if mode == Lazy {
				mf, derr = mp4.DecodeFile(br, mp4.WithDecodeMode(mp4.DecModeLazyMdat))
			} else {
				mf, derr = mp4.DecodeFile(br)
			}
			return derr
		})
		done <- result{mf, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, res.err
		}
		return res.mf, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// DecodeBytes is DecodeFile over an in-memory input (a fetched segment or init segment).
func DecodeBytes(ctx context.Context, b []byte) (*mp4.File, error) {
	return DecodeFile(ctx, bytes.NewReader(b), Full)
}

// DecodeBox decodes exactly one box held in b (for example a pssh box from a manifest).
func DecodeBox(b []byte) (mp4.Box, error) {
	if err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), DefaultLimits); err != nil {
		return nil, err
	}
	var box mp4.Box
	err := Do(func() error {
		var derr error
		box, derr = mp4.DecodeBox(0, bytes.NewReader(b))
		return derr
	})
	return box, err
}

// Do runs fn, a call into mp4ff on untrusted data (decode, decrypt, parse), and turns a panic
// inside it into an *Error. It is the only recover() around mp4ff (engine/manifest has its own
// for the HLS parser).
func Do(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Offset: -1, Reason: fmt.Sprintf("the MP4 decoder failed on malformed data (%v)", p)}
		}
	}()
	return fn()
}

// readerAt adapts a ReadSeeker (a file or an in-memory reader) for Scan.
func readerAt(r io.ReadSeeker) io.ReaderAt {
	if ra, ok := r.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{r: r}
}

type seekReaderAt struct{ r io.ReadSeeker }

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.r, p)
}
