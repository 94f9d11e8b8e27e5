package publish

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"satchel/engine/drm"
	"satchel/engine/verify"
	"satchel/packaging"
)

const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

var azuriteEndpoint string // http://127.0.0.1:PORT/devstoreaccount1

// TestMain starts a real Azurite (npm azurite-blob, in memory) on a free port.
func TestMain(m *testing.M) {
	bin, _ := filepath.Abs("../../.tools/node_modules/.bin/azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SATCHEL_REQUIRE_AZURITE") != "" {
			fmt.Fprintln(os.Stderr, "azurite-blob is not installed (.tools/); run scripts/azurite.sh install — `make test` does")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "skipping Azurite tests: run scripts/azurite.sh install")
		os.Exit(m.Run())
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, _ := os.MkdirTemp("", "azurite-*")
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose")
	cmd.Dir = dir // azurite writes its debug/extent files into the working directory
	var logb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start azurite:", err)
		os.Exit(1)
	}
	ok := false
	for i := 0; i < 600; i++ { // up to 60 s: node starts slowly on a loaded 2-core machine
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			ok = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "azurite did not start:", logb.String())
		cmd.Process.Kill()
		os.Exit(1)
	}
	azuriteEndpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", port, devAccount)
	code := m.Run()
	cmd.Process.Kill()
	cmd.Wait()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needAzurite(t *testing.T) {
	if azuriteEndpoint == "" {
		t.Skip("Azurite not installed")
	}
}

func creds() Credentials {
	return Credentials{ConnectionString: fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", devAccount, devKey, azuriteEndpoint)}
}

var pkgCache string

// testPackage packages two rungs once.
func testPackage(t *testing.T) string {
	t.Helper()
	if pkgCache != "" {
		return pkgCache
	}
	dir := filepath.Join(t.TempDir(), "pkg")
	_, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{"../../testdata/media/ladder_240p.mp4", "../../testdata/media/ladder_360p.mp4"},
		OutDir: dir, SegmentDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keep, _ := os.MkdirTemp("", "satchel-publish-pkg-*")
	os.CopyFS(keep, os.DirFS(dir))
	pkgCache = keep
	return keep
}

func listBlobs(t *testing.T, containerName string) map[string]*container.BlobItem {
	t.Helper()
	cc, err := container.NewClientFromConnectionString(creds().ConnectionString, containerName, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*container.BlobItem{}
	pager := cc.NewListBlobsFlatPager(nil)
	for pager.More() {
		p, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range p.Segment.BlobItems {
			out[*b.Name] = b
		}
	}
	return out
}

func TestPublishToAzurite(t *testing.T) {
	needAzurite(t)
	src := testPackage(t)
	ctx := context.Background()
	target, _ := ParseTarget("azure://offline/show1")
	var events []Progress
	rep, err := Publish(ctx, Options{SrcDir: src, Target: target, Creds: creds(), CORSOrigin: "https://player.example.com", Progress: func(p Progress) { events = append(events, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 0 || len(rep.Uploaded) == 0 || len(rep.Withheld) != 1 || rep.Withheld[0] != "keys.cpix.xml" {
		t.Fatalf("report %+v", rep)
	}
	// Manifests are uploaded after every media file.
	lastMedia, firstManifest := -1, len(rep.Order)
	for i, f := range rep.Order {
		if isManifest(f) {
			firstManifest = min(firstManifest, i)
		} else {
			lastMedia = i
		}
	}
	if lastMedia > firstManifest {
		t.Fatalf("a manifest was uploaded before media: %v", rep.Order)
	}
	if len(events) == 0 || events[len(events)-1].Files != len(rep.Uploaded) {
		t.Fatalf("progress events %v", events)
	}
	blobs := listBlobs(t, "offline")
	if _, ok := blobs["show1/keys.cpix.xml"]; ok {
		t.Fatal("keys.cpix.xml was published")
	}
	for rel, want := range map[string]string{"manifest.mpd": "application/dash+xml", "master.m3u8": "application/vnd.apple.mpegurl",
		"cenc/240p/init.mp4": "video/mp4", "cenc/audio/init.mp4": "audio/mp4", "cbcs/360p/seg_00001.m4s": "video/iso.segment", "download/360p.mp4": "video/mp4"} {
		b, ok := blobs["show1/"+rel]
		if !ok {
			t.Fatalf("%s not published", rel)
		}
		if got := *b.Properties.ContentType; got != want {
			t.Errorf("%s content type %s, want %s", rel, got, want)
		}
		data, _ := os.ReadFile(filepath.Join(src, rel))
		sum := md5.Sum(data)
		if !bytes.Equal(b.Properties.ContentMD5, sum[:]) {
			t.Errorf("%s MD5 mismatch", rel)
		}
		cc := *b.Properties.CacheControl
		if isManifest(rel) != strings.Contains(cc, "max-age=60") {
			t.Errorf("%s cache-control %q", rel, cc)
		}
	}
	// CORS rule in place, and a browser preflight gets it.
	if rep.CORSRule == nil || rep.CORSRule.AllowedOrigins != "https://player.example.com" {
		t.Fatalf("CORS rule %+v", rep.CORSRule)
	}
	svc, _ := service.NewClientFromConnectionString(creds().ConnectionString, nil)
	rule, err := GetCORS(ctx, svc)
	if err != nil || rule == nil || !strings.Contains(rule.AllowedMethods, "GET") {
		t.Fatalf("GetCORS %+v %v", rule, err)
	}
	req, _ := http.NewRequest("OPTIONS", rep.Manifest, nil)
	req.Header.Set("Origin", "https://player.example.com")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight got no CORS headers: %d %v", resp.StatusCode, resp.Header)
	}

	// Re-publish: everything unchanged is skipped.
	rep2, err := Publish(ctx, Options{SrcDir: src, Target: target, Creds: creds()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep2.Uploaded) != 0 || len(rep2.Skipped) != len(rep.Uploaded) {
		t.Fatalf("re-publish uploaded %d, skipped %d", len(rep2.Uploaded), len(rep2.Skipped))
	}

	// SAS URLs download with range requests.
	sasList, err := SASURLs(ctx, creds(), target, rep.Published, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var dl *SAS
	for i := range sasList {
		if sasList[i].Name == "download/240p.mp4" {
			dl = &sasList[i]
		}
	}
	if dl == nil || len(sasList) != 5 { // manifest.mpd, manifest_cbcs.mpd, master.m3u8, 2 downloads
		t.Fatalf("SAS list %+v", sasList)
	}
	req, _ = http.NewRequest("GET", dl.URL, nil)
	req.Header.Set("Range", "bytes=100-199")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	local, _ := os.ReadFile(filepath.Join(src, "download/240p.mp4"))
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, local[100:200]) {
		t.Fatalf("SAS range request: %d, %d bytes", resp.StatusCode, len(body))
	}
	// The published package verifies over HTTP through its SAS URL (segments inherit the token):
	// content types, CORS, ranges, signalling, license round trip, decryption.
	var mpd *SAS
	for i := range sasList {
		if sasList[i].Name == "manifest.mpd" {
			mpd = &sasList[i]
		}
	}
	kf, _ := os.Open(filepath.Join(src, "keys.cpix.xml"))
	doc, err := drm.ReadCPIX(kf)
	kf.Close()
	if err != nil {
		t.Fatal(err)
	}
	vrep, err := verify.Verify(ctx, verify.Input{Path: mpd.URL, Keys: doc.Keys, Origin: "https://player.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if vrep.Failed() || vrep.Samples == 0 {
		var b strings.Builder
		vrep.WriteText(&b)
		t.Fatalf("published package does not verify:\n%s", b.String())
	}
	// Without the SAS the private container refuses.
	if resp, err := http.Get(strings.Split(dl.URL, "?")[0]); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("blob readable without SAS")
		}
	}
}

func TestInterruptedPublishCompletes(t *testing.T) {
	needAzurite(t)
	src := testPackage(t)
	target, _ := ParseTarget("azure://interrupted")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Publish(ctx, Options{SrcDir: src, Target: target, Creds: creds(), Concurrency: 1, Progress: func(p Progress) {
		if p.Files >= 5 {
			cancel()
		}
	}})
	if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("interrupted publish: %v", err)
	}
	partial := listBlobs(t, "interrupted")
	for name := range partial {
		if isManifest(name) {
			t.Fatalf("manifest %s published by an interrupted run", name)
		}
	}
	rep, err := Publish(context.Background(), Options{SrcDir: src, Target: target, Creds: creds()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) < 5 || len(rep.Skipped)+len(rep.Uploaded) != len(rep.Published) {
		t.Fatalf("second run skipped %d uploaded %d of %d", len(rep.Skipped), len(rep.Uploaded), len(rep.Published))
	}
	if len(listBlobs(t, "interrupted")) != len(rep.Published) {
		t.Fatal("second run did not complete the package")
	}
}

func TestActionableErrors(t *testing.T) {
	needAzurite(t)
	src := testPackage(t)
	target, _ := ParseTarget("azure://badcreds")
	bad := Credentials{ConnectionString: fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", devAccount, "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=", azuriteEndpoint)}
	if _, err := Publish(context.Background(), Options{SrcDir: src, Target: target, Creds: bad}); err == nil || !strings.Contains(err.Error(), "key or SAS is wrong") {
		t.Fatalf("bad key: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	down := Credentials{ConnectionString: fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://%s/%s;", devAccount, devKey, dead, devAccount)}
	start := time.Now()
	_, err := Publish(context.Background(), Options{SrcDir: src, Target: target, Creds: down, MaxRetries: 1, TryTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || time.Since(start) > 15*time.Second {
		t.Fatalf("unreachable endpoint: %v after %s", err, time.Since(start))
	}
	if _, err := Publish(context.Background(), Options{SrcDir: src, Target: target}); err == nil || !strings.Contains(err.Error(), "credentials") {
		if os.Getenv("AZURE_STORAGE_CONNECTION_STRING") == "" {
			t.Fatalf("no credentials: %v", err)
		}
	}
	if _, err := ParseTarget("azure://Bad_Name/x"); err == nil {
		t.Fatal("bad container name accepted")
	}
}

func TestLocalFolderTarget(t *testing.T) {
	src := testPackageLocal(t)
	dst := filepath.Join(t.TempDir(), "www")
	target, _ := ParseTarget(dst)
	rep, err := Publish(context.Background(), Options{SrcDir: src, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "manifest.mpd")); err != nil || len(rep.Uploaded) == 0 {
		t.Fatalf("local publish: %v %+v", err, rep)
	}
	if _, err := os.Stat(filepath.Join(dst, "keys.cpix.xml")); err == nil {
		t.Fatal("keys published to the folder")
	}
	rep2, _ := Publish(context.Background(), Options{SrcDir: src, Target: target})
	if len(rep2.Uploaded) != 0 {
		t.Fatalf("re-publish copied %d files", len(rep2.Uploaded))
	}
}

// testPackageLocal works without Azurite too.
func testPackageLocal(t *testing.T) string { return testPackage(t) }
