package encode

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
)

// Thumbnail returns the first video frame of src as a PNG scaled to width pixels (the height
// keeps the aspect ratio), decoded by ffmpeg. It returns a *ToolError when ffmpeg is missing
// and an error naming src when the file has no decodable video.
func Thumbnail(ctx context.Context, t Tools, src string, width int) ([]byte, error) {
	ff, err := lookTool(t.FFmpeg, "ffmpeg")
	if err != nil {
		return nil, err
	}
	if width <= 0 {
		width = 320
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-i", fileArg(src), "-map", "0:v:0",
		"-frames:v", "1", "-vf", "scale=" + strconv.Itoa(width) + ":-2", "-f", "image2pipe", "-c:v", "png", "pipe:1"}
	out, stderr, err := runCapture(ctx, ff, args)
	if err != nil || !bytes.HasPrefix(out, []byte("\x89PNG")) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("first frame of %s: ffmpeg: %s", src, firstLineOf(stderr, err))
	}
	return out, nil
}

func firstLineOf(stderr []byte, err error) string {
	if line, _, _ := bytes.Cut(bytes.TrimSpace(stderr), []byte("\n")); len(line) > 0 {
		return string(line)
	}
	if err != nil {
		return err.Error()
	}
	return "no frame decoded"
}
