package mp4safe

import (
	"errors"
	"io"
)

// bufSize is the read-ahead of bufReader: box headers are 8–16 bytes, so one read serves
// thousands of small boxes.
const bufSize = 64 << 10

// bufReader is a read-ahead io.ReadSeeker and io.ReaderAt over an input of known size. Scan
// and mp4ff read one small header at a time; without it a file of a million small boxes costs
// millions of system calls.
type bufReader struct {
	ra     io.ReaderAt
	size   int64
	pos    int64 // Read/Seek position
	buf    []byte
	bufOff int64 // input offset of buf[0]
}

func newBufReader(ra io.ReaderAt, size int64) *bufReader {
	return &bufReader{ra: ra, size: size, buf: make([]byte, 0, bufSize)}
}

// fill loads the window starting at off.
func (b *bufReader) fill(off int64) error {
	n, err := b.ra.ReadAt(b.buf[:cap(b.buf)][:min(int64(cap(b.buf)), b.size-off)], off)
	b.buf, b.bufOff = b.buf[:n], off
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ReadAt implements io.ReaderAt through the window; reads larger than it go straight through.
func (b *bufReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	if len(p) > cap(b.buf)/2 {
		return b.ra.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= b.size {
			return n, io.EOF
		}
		if at < b.bufOff || at >= b.bufOff+int64(len(b.buf)) {
			if err := b.fill(at); err != nil {
				return n, err
			}
			if len(b.buf) == 0 {
				return n, io.ErrUnexpectedEOF
			}
		}
		n += copy(p[n:], b.buf[at-b.bufOff:])
	}
	return n, nil
}

// Read implements io.Reader at the current position.
func (b *bufReader) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if int64(len(p)) > b.size-b.pos {
		p = p[:b.size-b.pos]
	}
	n, err := b.ReadAt(p, b.pos)
	b.pos += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (b *bufReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, errors.New("bad whence")
	}
	if offset < 0 {
		return 0, errors.New("negative position")
	}
	b.pos = offset
	return offset, nil
}

// ReadAheadReader is what ReadAhead returns.
type ReadAheadReader interface {
	io.ReadSeeker
	io.ReaderAt
}

// ReadAhead returns a read-ahead reader over the size bytes of ra, for callers that walk box
// headers themselves: small reads are served from a 64 KiB window, not one system call each.
// It is not safe for concurrent use.
func ReadAhead(ra io.ReaderAt, size int64) ReadAheadReader { return newBufReader(ra, size) }
