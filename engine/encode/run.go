package encode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ProcessError is an ffmpeg run that failed: the command, its exit code and the end of what
// it wrote to stderr.
type ProcessError struct {
	Command  Command
	ExitCode int
	Stderr   string
}

func (e *ProcessError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if len(msg) > 600 { // the end says what went wrong; start it at a line
		msg = msg[len(msg)-600:]
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
	}
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("ffmpeg %s failed (exit status %d): %s", e.Command.Purpose, e.ExitCode, msg)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}

// stderrKeep is how much of ffmpeg's stderr is kept: enough for the quality summary lines and
// an error's explanation.
const stderrKeep = 256 << 10

// runFFmpeg runs one command to completion. started gets the PID once the process runs;
// progress gets every -progress block. Cancelling ctx kills the process group (SIGKILL) and
// waits for it, so when runFFmpeg returns no process it started is left. It returns what the
// process wrote to stderr (the end of it) and a *ProcessError for a non-zero exit, or
// ctx.Err() when cancelled.
func runFFmpeg(ctx context.Context, c *Command, started func(pid int), progress func(ffProgress)) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	stderr := &tailBuffer{max: stderrKeep}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ToolError{Tool: "ffmpeg", Err: ErrToolMissing, Detail: err.Error()}
	}
	begin := time.Now()
	if started != nil {
		started(cmd.Process.Pid)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = readProgress(stdout, func(p ffProgress) {
			if progress != nil {
				progress(p)
			}
		})
	}()
	<-done // the pipe closes when the process exits (or is killed)
	err = cmd.Wait()
	c.Elapsed = time.Since(begin)
	if ctx.Err() != nil {
		return stderr.Bytes(), ctx.Err()
	}
	if err != nil {
		var ee *exec.ExitError
		code := -1
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return stderr.Bytes(), &ProcessError{Command: *c, ExitCode: code, Stderr: string(stderr.Bytes())}
	}
	return stderr.Bytes(), nil
}
