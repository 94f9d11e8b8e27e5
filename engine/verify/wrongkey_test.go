package verify

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/packaging"
)

// TestWrongKeysNeverPass packages with Satchel (cenc and cbcs) and verifies with random wrong
// keys for the video only and for the audio only: every run must fail with a decode failure
// naming the wrong KID. SATCHEL_WRONG_KEYS=N runs N keys per case (default 3); the README
// reports a long sweep.
func TestWrongKeysNeverPass(t *testing.T) {
	n := 3
	if s := os.Getenv("SATCHEL_WRONG_KEYS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	runs, passes := 0, 0
	for _, scheme := range []drm.Scheme{drm.SchemeCENC, drm.SchemeCBCS} {
		out := filepath.Join(t.TempDir(), "pkg")
		res, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out,
			Schemes: []drm.Scheme{scheme}, Formats: []packaging.Format{packaging.FormatMP4}, Systems: []drm.System{drm.ClearKey},
			SegmentDuration: 2 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(out, "download", "240p.mp4")
		for _, trackType := range []string{"SD", "AUDIO"} {
			for i := 0; i < n; i++ {
				keys := append([]drm.ContentKey(nil), res.Keys...)
				var kid drm.KID
				for j := range keys {
					if keys[j].TrackType == trackType {
						_, _ = rand.Read(keys[j].Key[:])
						kid = keys[j].KID
					}
				}
				rep, err := Verify(context.Background(), Input{Path: file, Keys: keys})
				if err != nil {
					t.Fatal(err)
				}
				runs++
				if !rep.Failed() {
					passes++
					t.Errorf("%s, wrong %s key %d: verify passed", scheme, trackType, i)
					continue
				}
				requireWrongKeyFails(t, rep, kid.String())
			}
		}
	}
	t.Logf("%d random wrong keys (cenc and cbcs, video-only and audio-only): %d false passes", runs, passes)
}
