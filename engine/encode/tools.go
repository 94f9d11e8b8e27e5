package encode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Tools says where ffmpeg and ffprobe are. Zero fields mean "ffmpeg" and "ffprobe" on PATH.
type Tools struct {
	FFmpeg  string `json:"ffmpeg,omitempty"`
	FFprobe string `json:"ffprobe,omitempty"`
}

// ErrToolMissing is wrapped by a *ToolError when ffmpeg or ffprobe cannot be found, and
// ErrEncoderMissing when the installed ffmpeg lacks an encoder a ladder needs.
var (
	ErrToolMissing    = errors.New("not found")
	ErrEncoderMissing = errors.New("encoder missing")
)

// ToolError is a problem with the ffmpeg installation itself.
type ToolError struct {
	Tool   string // "ffmpeg", "ffprobe" or an encoder name such as "libx265"
	Err    error  // ErrToolMissing or ErrEncoderMissing
	Detail string
}

func (e *ToolError) Error() string {
	if errors.Is(e.Err, ErrEncoderMissing) {
		return fmt.Sprintf("the installed ffmpeg has no %s encoder%s", e.Tool, suffix(e.Detail))
	}
	return fmt.Sprintf("%s %v%s", e.Tool, e.Err, suffix(e.Detail))
}

func (e *ToolError) Unwrap() error { return e.Err }

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// resolve finds both programs.
func (t Tools) resolve() (Tools, error) {
	var err error
	if t.FFmpeg, err = lookTool(t.FFmpeg, "ffmpeg"); err != nil {
		return t, err
	}
	t.FFprobe, err = lookTool(t.FFprobe, "ffprobe")
	return t, err
}

func lookTool(path, name string) (string, error) {
	if path == "" {
		path = name
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", &ToolError{Tool: name, Err: ErrToolMissing, Detail: err.Error()}
	}
	return p, nil
}

// Capabilities is what the installed ffmpeg can do, as far as encoding a ladder goes.
type Capabilities struct {
	Version  string          `json:"version"`  // first line of ffmpeg -version
	Encoders map[string]bool `json:"encoders"` // ffmpeg encoder names
	VMAF     bool            `json:"vmaf"`     // the libvmaf filter is compiled in
}

// NoVMAFReason explains why VMAF is not measured on this machine.
const NoVMAFReason = "VMAF not measured: the installed ffmpeg was built without the libvmaf filter " +
	"(Debian's and Ubuntu's ffmpeg packages are); PSNR and SSIM are measured"

var capCache sync.Map // ffmpeg path → *Capabilities

// Capabilities asks ffmpeg for its version, build configuration and encoders, in one run
// (ffmpeg starts slowly; Satchel's overhead over bare ffmpeg must stay small). The result is
// cached per ffmpeg path for the life of the process.
func (t Tools) Capabilities(ctx context.Context) (*Capabilities, error) {
	rt, err := t.resolve()
	if err != nil {
		return nil, err
	}
	if c, ok := capCache.Load(rt.FFmpeg); ok {
		return c.(*Capabilities), nil
	}
	enc, banner, err := runCapture(ctx, rt.FFmpeg, []string{"-encoders"})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, &ToolError{Tool: "ffmpeg", Err: ErrToolMissing, Detail: "it does not run: " + err.Error()}
	}
	c := parseCapabilities(enc, banner)
	capCache.Store(rt.FFmpeg, c)
	return c, nil
}

// parseCapabilities reads `ffmpeg -encoders`: the banner on stderr (version line, then
// "configuration: …" with --enable-libvmaf when VMAF is built in) and the list on stdout.
func parseCapabilities(list, banner []byte) *Capabilities {
	c := &Capabilities{Version: firstLine(banner), Encoders: parseCodecList(list)}
	sc := bufio.NewScanner(bytes.NewReader(banner))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "configuration:") {
			c.VMAF = slices.Contains(strings.Fields(line), "--enable-libvmaf")
		}
	}
	return c
}

// parseCodecList reads `ffmpeg -encoders` output: after the "------" line, each line is
// " FLAGS name description".
func parseCodecList(out []byte) map[string]bool {
	names := map[string]bool{}
	started := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if !started {
			started = len(f) == 1 && strings.HasPrefix(f[0], "---")
			continue
		}
		if len(f) >= 2 {
			names[f[1]] = true
		}
	}
	return names
}

// runCapture runs a short command (ffprobe, ffmpeg -encoders) and returns its stdout and
// stderr; the process is killed if ctx ends.
func runCapture(ctx context.Context, name string, args []string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	setProcessGroup(cmd)
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// fileArg makes a path safe as an ffmpeg/ffprobe input or output: a leading '-' would be read
// as an option and "name:rest" as a protocol, so such paths get the explicit file: protocol.
func fileArg(path string) string {
	first := path
	if i := strings.IndexAny(path, `/\`); i >= 0 {
		first = path[:i]
	}
	if strings.HasPrefix(path, "-") || (strings.Contains(first, ":") && !isWindowsDrive(path)) {
		return "file:" + path
	}
	return path
}

func isWindowsDrive(path string) bool {
	return runtime.GOOS == "windows" && filepath.VolumeName(path) != ""
}
