package packaging

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
)

// shakaPackager returns the Shaka Packager binary that scripts/deps.sh installs (npm
// shaka-packager ships one per platform), skipping the test when it is missing outside CI.
func shakaPackager(t *testing.T) string {
	t.Helper()
	osName := map[string]string{"linux": "linux", "darwin": "osx", "windows": "win"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	bin := filepath.Join("..", ".tools", "node_modules", "shaka-packager", "bin", fmt.Sprintf("packager-%s-%s", osName, arch))
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SATCHEL_REQUIRE_AZURITE") != "" {
			t.Fatalf("Shaka Packager is not installed (%v); scripts/deps.sh installs it (make test)", err)
		}
		t.Skip("Shaka Packager not installed; run scripts/deps.sh")
	}
	return bin
}

// TestPeerDecryption has other people's decrypters take Satchel's packages apart: Shaka
// Packager (--enable_raw_key_decryption) and ffmpeg (-decryption_key) decrypt the cenc and
// cbcs video and audio renditions, and Shaka Packager the single-file download, back to the
// source's samples, bit for bit.
func TestPeerDecryption(t *testing.T) {
	packager := shakaPackager(t)
	src := testMedia + "multilang.mp4"
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{src}, OutDir: out, SegmentDuration: 2 * time.Second,
		Formats: []Format{FormatDASH, FormatMP4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tracks := []struct {
		id     string
		stream string // Shaka Packager stream selector
		srcID  uint32 // the track in multilang.mp4
	}{{"240p", "video", 1}, {"audio_en", "audio", 2}} // audio_fr goes through the same code; the download has it
	for _, scheme := range []string{"cenc", "cbcs"} {
		for _, tr := range tracks {
			t.Run(scheme+"/"+tr.id, func(t *testing.T) {
				r := rendition(t, res, tr.id)
				r.InitPath = strings.Replace(r.InitPath, "cenc/", scheme+"/", 1)
				for i := range r.Segments {
					r.Segments[i].Path = strings.Replace(r.Segments[i].Path, "cenc/", scheme+"/", 1)
				}
				key, ok := drm.KeyByKID(res.Keys, r.KID)
				if !ok {
					t.Fatalf("no key for %s", r.KID)
				}
				want := trackSamples(t, src, tr.srcID)
				enc := concatTrack(t, out, r, filepath.Join(t.TempDir(), "enc.mp4"))
				dec := shakaDecrypt(t, packager, enc, tr.stream, key)
				compareSamples(t, "Shaka Packager "+scheme+" "+tr.id, trackSamples(t, dec, 1), want)
				compareSamples(t, "ffmpeg "+scheme+" "+tr.id, ffmpegDecrypt(t, out, r, key), want)
			})
		}
	}
	t.Run("download", func(t *testing.T) {
		dl := filepath.Join(out, manifest.DirDownload, "240p.mp4")
		var keys []drm.ContentKey
		for _, id := range []string{"240p", "audio_en"} {
			k, _ := drm.KeyByKID(res.Keys, rendition(t, res, id).KID)
			keys = append(keys, k)
		}
		compareSamples(t, "Shaka Packager download video", trackSamples(t, shakaDecrypt(t, packager, dl, "video", keys...), 1), trackSamples(t, src, 1))
		compareSamples(t, "Shaka Packager download audio", trackSamples(t, shakaDecrypt(t, packager, dl, "audio", keys...), 1), trackSamples(t, src, 2))
	})
}

// shakaDecrypt runs Shaka Packager over one stream of an encrypted file and returns the clear
// output file.
func shakaDecrypt(t *testing.T, packager, in, stream string, keys ...drm.ContentKey) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dec-"+stream+".mp4")
	var specs []string
	for i, k := range keys {
		specs = append(specs, fmt.Sprintf("label=k%d:key_id=%s:key=%s", i, k.KID.Hex(), k.KeyHex()))
	}
	cmd := exec.Command(packager, fmt.Sprintf("in=%s,stream=%s,output=%s", in, stream, out),
		"--enable_raw_key_decryption", "--keys", strings.Join(specs, ","))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shaka packager: %v\n%s", err, b)
	}
	return out
}

// ffmpegDecrypt decrypts a rendition with ffmpeg one segment at a time (ffmpeg 5 fails on
// multi-fragment files from any packager — Shaka Packager's included — with "Incorrect number
// of samples in encryption info"): one ffmpeg run, one input (init + segment) and one output per
// segment. It returns the samples in order.
func ffmpegDecrypt(t *testing.T, pkg string, r manifest.Rendition, key drm.ContentKey) [][]byte {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-v", "error"}
	var outs []string
	for i, s := range r.Segments {
		one := r
		one.Segments = []manifest.Segment{s}
		in := concatTrack(t, pkg, one, filepath.Join(dir, fmt.Sprintf("in%d.mp4", i)))
		args = append(args, "-decryption_key", hex.EncodeToString(key.Key[:]), "-i", in)
	}
	for i := range r.Segments {
		out := filepath.Join(dir, fmt.Sprintf("out%d.mp4", i))
		args = append(args, "-map", fmt.Sprintf("%d", i), "-c", "copy", out)
		outs = append(outs, out)
	}
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	var all [][]byte
	for _, out := range outs {
		all = append(all, trackSamples(t, out, 1)...)
	}
	return all
}
