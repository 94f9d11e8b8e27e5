package publish

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/verify"
	"satchel/packaging"
)

// TestPublishSmoothToAzurite publishes a package with a Smooth Streaming manifest: the
// manifest and its extension-less fragments (QualityLevels(…)/Fragments(…)) upload with their
// content types, and the published manifest verifies over HTTP through its SAS URL, which
// fetches a fragment by its Smooth name.
func TestPublishSmoothToAzurite(t *testing.T) {
	needAzurite(t)
	src := filepath.Join(t.TempDir(), "pkg")
	res, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{"../../testdata/media/ladder_240p.mp4"},
		OutDir: src, SegmentDuration: 2 * time.Second, Schemes: []drm.Scheme{drm.SchemeCENC},
		Formats: []packaging.Format{packaging.FormatDASH}, Smooth: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	target, _ := ParseTarget("azure://offline/smooth1")
	rep, err := Publish(ctx, Options{SrcDir: src, Target: target, Creds: creds()})
	if err != nil {
		t.Fatal(err)
	}
	blobs := listBlobs(t, "offline")
	video := res.Renditions[0]
	for rel, want := range map[string]string{manifest.FileSmooth: "application/vnd.ms-sstr+xml",
		video.Segments[1].Path: "video/mp4", res.Renditions[1].Segments[0].Path: "audio/mp4"} {
		b, ok := blobs["smooth1/"+rel]
		if !ok {
			t.Fatalf("%s not published", rel)
		}
		if got := *b.Properties.ContentType; got != want {
			t.Errorf("%s content type %s, want %s", rel, got, want)
		}
	}
	sasList, err := SASURLs(ctx, creds(), target, rep.Published, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ismc string
	for _, s := range sasList {
		if s.Name == manifest.FileSmooth {
			ismc = s.URL
		}
	}
	if ismc == "" {
		t.Fatalf("no SAS URL for %s: %+v", manifest.FileSmooth, sasList)
	}
	vrep, err := verify.Verify(ctx, verify.Input{Path: ismc, Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	vrep.WriteText(&b)
	if vrep.Failed() || !strings.Contains(b.String(), "Smooth manifest parses") {
		t.Fatalf("the published Smooth manifest does not verify:\n%s", b.String())
	}
	if _, err := os.Stat(filepath.Join(src, filepath.FromSlash(video.Segments[1].Path))); err != nil {
		t.Fatal(err)
	}
}
