// Package decode proves that media samples are real, decodable media: it turns the samples of
// one MP4 track into an elementary stream (Annex B with parameter sets for AVC/HEVC, ADTS for
// AAC, raw frames for AC-3/E-AC-3, IVF for AV1), pipes it into ffprobe (libavcodec, installed
// with ffmpeg) and counts the frames that decoded and the errors the decoder reported.
//
// It is the verifier's answer to "does it really decrypt?": a wrong key or corrupt data gives
// decoder errors or lost frames, whatever parts of a sample happen to be in the clear. It is
// not a player: no rendering, no timing.
package decode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// Format is the elementary stream format fed to the decoder.
type Format string

// The elementary stream formats.
const (
	H264 Format = "h264" // Annex B
	HEVC Format = "hevc" // Annex B
	AAC  Format = "aac"  // ADTS
	AC3  Format = "ac3"  // raw syncframes
	EAC3 Format = "eac3" // raw syncframes
	AV1  Format = "av1"  // IVF
)

// Stream describes one track for the decoder: its format and the out-of-band configuration
// (parameter sets, AudioSpecificConfig, AV1 config OBUs) the elementary stream needs.
type Stream struct {
	Format Format
	// NALLength is the size of the NAL unit length fields in AVC/HEVC samples (1, 2 or 4).
	NALLength int
	// ParamSets are the AVC SPS/PPS or HEVC VPS/SPS/PPS NAL units (without start codes).
	ParamSets [][]byte
	// ASC is the AAC AudioSpecificConfig.
	ASC []byte
	// AV1Config are the configOBUs of av1C (usually the sequence header).
	AV1Config []byte
	// Width and Height go into the IVF header (AV1 only; informative).
	Width, Height int
}

// Result is what the decoder made of the fed samples.
type Result struct {
	Fed      int      `json:"fed"`                // samples written
	Decoded  int      `json:"decoded"`            // frames the decoder output
	Errors   int      `json:"errors"`             // error lines the decoder printed
	Messages []string `json:"messages,omitempty"` // the first few error lines
}

// OK reports whether every fed sample decoded and the decoder reported no error.
func (r Result) OK() bool { return r.Fed > 0 && r.Decoded == r.Fed && r.Errors == 0 }

// String summarises r ("48 of 48 frames decoded, 0 errors").
func (r Result) String() string {
	s := fmt.Sprintf("%d of %d frames decoded, %d decoder errors", r.Decoded, r.Fed, r.Errors)
	if len(r.Messages) > 0 {
		s += " (first: " + r.Messages[0] + ")"
	}
	return s
}

// ErrNoDecoder says that ffprobe is not installed.
var ErrNoDecoder = errors.New("ffprobe (from ffmpeg) is not installed")

// Decoder is one running ffprobe process fed through a pipe. It is not safe for concurrent use.
type Decoder struct {
	s       Stream
	cmd     *exec.Cmd
	in      io.WriteCloser
	w       *bufio.Writer
	out     bytes.Buffer
	errs    *errorCounter
	fed     int
	pending bool // AV1: the IVF header is still to be written
	broken  bool // the decoder stopped reading; later samples are counted, not written
}

// maxMessages bounds the error lines kept in a Result.
const maxMessages = 3

// Start starts a decoder for s. The caller writes samples with Write and must call Close.
func Start(ctx context.Context, s Stream) (*Decoder, error) {
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		return nil, ErrNoDecoder
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	demux := string(s.Format)
	if s.Format == AV1 {
		demux = "ivf"
	}
	// -count_frames decodes every frame; nb_read_frames is what the decoder output.
	cmd := exec.CommandContext(ctx, path, "-v", "error", "-hide_banner", "-threads", "1", "-f", demux,
		"-i", "pipe:0", "-count_frames", "-select_streams", "0", "-show_entries", "stream=nb_read_frames",
		"-of", "default=noprint_wrappers=1:nokey=1")
	d := &Decoder{s: s, cmd: cmd, errs: &errorCounter{}, pending: s.Format == AV1}
	cmd.Stdout = &d.out
	cmd.Stderr = d.errs
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffprobe: %w", err)
	}
	d.in, d.w = in, bufio.NewWriterSize(in, 256<<10)
	return d, nil
}

func (s Stream) validate() error {
	switch s.Format {
	case H264, HEVC:
		if s.NALLength != 1 && s.NALLength != 2 && s.NALLength != 4 {
			return fmt.Errorf("decode %s: NAL length size %d is not 1, 2 or 4", s.Format, s.NALLength)
		}
	case AAC:
		if _, err := adtsConfig(s.ASC); err != nil {
			return err
		}
	case AC3, EAC3, AV1:
	default:
		return fmt.Errorf("decode: format %q is not supported", s.Format)
	}
	return nil
}

// Write feeds one sample (as stored in MP4). sync marks a sync sample: AVC/HEVC parameter sets
// are repeated before it, so that a decoder fed only sync samples can start at any of them.
// A sample that cannot be converted (a NAL length running past its end) is still counted as
// fed, so the result shows it as a frame that did not decode.
func (d *Decoder) Write(sample []byte, sync bool) error {
	d.fed++
	if d.broken {
		return nil
	}
	var err error
	switch d.s.Format {
	case H264, HEVC:
		err = d.writeAnnexB(sample, sync)
	case AAC:
		err = d.writeADTS(sample)
	case AC3, EAC3:
		_, err = d.w.Write(sample)
	case AV1:
		err = d.writeIVF(sample, sync)
	}
	var ce *conversionError
	if errors.As(err, &ce) {
		d.errs.add("sample " + strconv.Itoa(d.fed) + ": " + ce.msg)
		return nil
	}
	if err != nil {
		d.broken = true // the decoder exited (it reports why on stderr)
	}
	return nil
}

// Close ends the stream, waits for the decoder and returns its result. A decoder that could
// not be run at all is an error; undecodable media is a Result with errors.
func (d *Decoder) Close() (Result, error) {
	if d.w.Flush() != nil {
		d.broken = true
	}
	_ = d.in.Close() // a decoder that already exited closed its end
	werr := d.cmd.Wait()
	res := Result{Fed: d.fed, Errors: d.errs.count(), Messages: d.errs.first()}
	n, perr := strconv.Atoi(strings.TrimSpace(firstLine(d.out.String())))
	if perr == nil {
		res.Decoded = n
	}
	if werr != nil && res.Errors == 0 && perr != nil {
		return res, fmt.Errorf("ffprobe: %w", werr)
	}
	if (werr != nil || d.broken) && res.Errors == 0 {
		res.Errors = 1
		res.Messages = append(res.Messages, "the decoder stopped before the end of the stream")
	}
	return res, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// conversionError is a sample that cannot be turned into an elementary stream unit.
type conversionError struct{ msg string }

func (e *conversionError) Error() string { return e.msg }

var startCode = []byte{0, 0, 0, 1}

func (d *Decoder) writeAnnexB(sample []byte, sync bool) error {
	if sync {
		for _, ps := range d.s.ParamSets {
			d.w.Write(startCode)
			d.w.Write(ps)
		}
	}
	ls := d.s.NALLength
	for pos := 0; pos < len(sample); {
		if pos+ls > len(sample) {
			return &conversionError{msg: "a NAL length field runs past the sample"}
		}
		var n int
		for i := 0; i < ls; i++ {
			n = n<<8 | int(sample[pos+i])
		}
		pos += ls
		if n > len(sample)-pos {
			return &conversionError{msg: fmt.Sprintf("a NAL unit of %d bytes runs past the sample", n)}
		}
		d.w.Write(startCode)
		d.w.Write(sample[pos : pos+n])
		pos += n
	}
	return nil
}

// adtsConfig returns the fixed part of an ADTS header (profile, sampling index, channels) from
// an AudioSpecificConfig; SBR/PS configurations use their AAC-LC core (implicit signalling).
func adtsConfig(asc []byte) ([3]byte, error) {
	var out [3]byte
	if len(asc) < 2 {
		return out, errors.New("decode aac: the AudioSpecificConfig is missing or too short")
	}
	obj := asc[0] >> 3
	freq := (asc[0]&0x07)<<1 | asc[1]>>7
	ch := (asc[1] >> 3) & 0x0f
	if obj == 5 || obj == 29 {
		obj = 2
	}
	if obj < 1 || obj > 4 || freq > 12 {
		return out, fmt.Errorf("decode aac: object type %d / sampling index %d cannot be carried in ADTS", obj, freq)
	}
	out[0], out[1], out[2] = obj-1, freq, ch
	return out, nil
}

func (d *Decoder) writeADTS(sample []byte) error {
	cfg, _ := adtsConfig(d.s.ASC)
	n := len(sample) + 7
	if n > 0x1fff {
		return &conversionError{msg: fmt.Sprintf("an AAC frame of %d bytes does not fit ADTS", len(sample))}
	}
	h := [7]byte{
		0xff, 0xf1,
		cfg[0]<<6 | cfg[1]<<2 | cfg[2]>>2,
		(cfg[2]&3)<<6 | byte(n>>11),
		byte(n >> 3),
		byte(n&7)<<5 | 0x1f,
		0xfc,
	}
	d.w.Write(h[:])
	_, err := d.w.Write(sample)
	return err
}

func (d *Decoder) writeIVF(sample []byte, sync bool) error {
	if d.pending {
		var h [32]byte
		copy(h[:], "DKIF")
		binary.LittleEndian.PutUint16(h[6:], 32)
		copy(h[8:], "AV01")
		binary.LittleEndian.PutUint16(h[12:], uint16(d.s.Width))
		binary.LittleEndian.PutUint16(h[14:], uint16(d.s.Height))
		binary.LittleEndian.PutUint32(h[16:], 30)
		binary.LittleEndian.PutUint32(h[20:], 1)
		d.w.Write(h[:])
		d.pending = false
	}
	frame := sample
	if sync && len(d.s.AV1Config) > 0 && !hasSequenceHeader(sample) {
		frame = append(append([]byte(nil), d.s.AV1Config...), sample...)
	}
	var fh [12]byte
	binary.LittleEndian.PutUint32(fh[:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(fh[4:], uint64(d.fed-1))
	d.w.Write(fh[:])
	_, err := d.w.Write(frame)
	return err
}

// hasSequenceHeader reports whether the first OBU of an AV1 temporal unit (after temporal
// delimiters) is a sequence header.
func hasSequenceHeader(tu []byte) bool {
	for pos := 0; pos < len(tu); {
		typ := (tu[pos] >> 3) & 0x0f
		if typ == 1 {
			return true
		}
		if tu[pos]&0x02 == 0 || typ != 2 {
			return false
		}
		hdr := 1
		if tu[pos]&0x04 != 0 {
			hdr++
		}
		size, n := leb128(tu[pos+hdr:])
		if n == 0 {
			return false
		}
		pos += hdr + n + int(size)
	}
	return false
}

func leb128(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// errorCounter counts the decoder's error lines and keeps the first few.
type errorCounter struct {
	mu    sync.Mutex
	n     int
	msgs  []string
	carry []byte
}

func (c *errorCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.carry = append(c.carry, p...)
	for {
		i := bytes.IndexByte(c.carry, '\n')
		if i < 0 {
			break
		}
		c.addLocked(string(c.carry[:i]))
		c.carry = c.carry[i+1:]
	}
	if len(c.carry) > 64<<10 {
		c.carry = c.carry[:0]
	}
	return len(p), nil
}

func (c *errorCounter) add(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(line)
}

func (c *errorCounter) addLocked(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	c.n++
	if len(c.msgs) < maxMessages {
		if len(line) > 200 {
			line = line[:200] + "…"
		}
		c.msgs = append(c.msgs, line)
	}
}

func (c *errorCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(bytes.TrimSpace(c.carry)) > 0 {
		c.addLocked(string(c.carry))
		c.carry = nil
	}
	return c.n
}

func (c *errorCounter) first() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}
