package subtitle

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is a subtitle file format Satchel reads.
type Format string

// The subtitle file formats.
const (
	FormatSRT    Format = "srt"
	FormatWebVTT Format = "webvtt"
)

// ReadFile reads an SRT or WebVTT file (told apart by the WEBVTT signature, not the
// extension) into cues sorted by start time. A file without cues is ErrEmpty.
func ReadFile(path string) ([]Cue, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, "", err
	}
	format := FormatSRT
	head := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	vttExt := strings.EqualFold(filepath.Ext(path), ".vtt")
	if bytes.HasPrefix(head, []byte("WEBVTT")) || vttExt && !bytes.Contains(head, []byte("-->")) {
		format = FormatWebVTT
	}
	var cues []Cue
	if format == FormatWebVTT {
		cues, err = ParseWebVTT(b)
	} else {
		cues, err = ParseSRT(b)
	}
	if err != nil {
		return nil, format, err
	}
	if len(cues) == 0 {
		return nil, format, fmt.Errorf("%w", ErrEmpty)
	}
	return cues, format, nil
}
