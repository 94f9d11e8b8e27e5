package services

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel/app/jobs"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/manifest"
	"satchel/packaging"
)

// TestOneLicenseReturnsEveryKey packages a multi-key ladder (AUDIO, SD and HD keys) with the
// defaults: every track's init data — the MPD's Widevine, PlayReady and common PSSH, the HLS
// key tags — lists all three key IDs. A ClearKey license request made from the first video
// Representation's init data, as a browser's CDM makes it (the key IDs of the W3C common
// PSSH), returns all three keys from the embedded server.
func TestOneLicenseReturnsEveryKey(t *testing.T) {
	s := open(t)
	out := filepath.Join(t.TempDir(), "pkg")
	res := runJob(t, func() (*jobs.Job, error) {
		req := DefaultPackageRequest()
		req.Inputs = []string{media + "ladder_240p.mp4", media + "ladder_720p.mp4"}
		req.OutDir, req.SegmentDuration = out, 2*time.Second
		req.Formats = []packaging.Format{"dash", "hls"}
		return s.StartPackage(context.Background(), req)
	}).(*PackageResult)
	if len(res.Keys) != 3 {
		t.Fatalf("keys %+v", res.Keys)
	}
	f, err := os.Open(filepath.Join(out, manifest.FileMPD))
	if err != nil {
		t.Fatal(err)
	}
	info, err := manifest.ReadMPD(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var initData []drm.KID
	for _, r := range info.Representations {
		for _, p := range r.Protection {
			var kids []drm.KID
			switch {
			case len(p.PSSH) > 0:
				box, err := drm.DecodePSSHBytes(p.PSSH)
				if err != nil {
					t.Fatal(err)
				}
				d, err := drm.DecodePSSH(box)
				if err != nil {
					t.Fatal(err)
				}
				kids = d.KIDs
				if d.System == drm.ClearKey && initData == nil && r.ContentType == "video" {
					initData = d.KIDs
				}
			default:
				continue
			}
			if len(kids) != 3 {
				t.Errorf("MPD %s %s: the PSSH lists %d key IDs, want 3", r.ID, p.SchemeIDURI, len(kids))
			}
		}
	}
	checkHLSInitData(t, out, 3)
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	lic, err := license.NewClient(url, "").ClearKey(context.Background(), initData, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(lic.Keys) != 3 {
		t.Fatalf("one license request returned %d keys, want 3", len(lic.Keys))
	}
	for _, k := range lic.Keys {
		if want, ok := drm.KeyByKID(res.Keys, k.KID); !ok || want.Key != k.Key {
			t.Errorf("license key %s does not match the package's", k.KID)
		}
	}
}

// checkHLSInitData checks that every data: URI key tag of the HLS playlists (Widevine and
// common PSSH) lists n key IDs.
func checkHLSInitData(t *testing.T, root string, n int) {
	t.Helper()
	uri := regexp.MustCompile(`URI="data:text/plain;base64,([^"]+)"`)
	files, _ := filepath.Glob(filepath.Join(root, "*", "*", "*.m3u8"))
	files = append(files, filepath.Join(root, manifest.FileHLSMaster))
	seen := 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uri.FindAllStringSubmatch(string(b), -1) {
			raw, _ := base64.StdEncoding.DecodeString(m[1])
			box, err := drm.DecodePSSHBytes(raw)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			d, err := drm.DecodePSSH(box)
			if err != nil {
				t.Fatal(err)
			}
			if seen++; len(d.KIDs) != n {
				t.Errorf("%s: %s PSSH lists %d key IDs, want %d", p, d.System, len(d.KIDs), n)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no PSSH data URIs in the HLS playlists")
	}
}

// TestOneKeyPlaysInChromium packages with one key for every track (--key ALL=…) through the
// services and plays the DASH package with Shaka Player in headless Chromium: one license
// with that one key, decrypted frames playing.
func TestOneKeyPlaysInChromium(t *testing.T) {
	browser := chromiumBrowser(t)
	s := open(t)
	out := filepath.Join(t.TempDir(), "pkg")
	all, err := drm.ParseKeySpec("ALL=0a1b2c3d4e5f60718293a4b5c6d7e8f9:00112233445566778899aabbccddeeff")
	if err != nil {
		t.Fatal(err)
	}
	res := runJob(t, func() (*jobs.Job, error) {
		req := DefaultPackageRequest()
		req.Inputs = []string{media + "ladder_240p.mp4", media + "ladder_720p.mp4"}
		req.OutDir, req.SegmentDuration, req.Keys = out, 2*time.Second, []drm.ContentKey{all}
		req.Formats = []packaging.Format{"dash", "mp4"}
		return s.StartPackage(context.Background(), req)
	}).(*PackageResult)
	if len(res.Keys) != 1 || res.Keys[0].KID != all.KID || res.KeySet != "" {
		t.Fatalf("keys %+v, key set %q", res.Keys, res.KeySet)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	page := openPage(t, browser, url+"/player/?mode=package&autoplay=1")
	log := page.waitLog(t, 60*time.Second, "package playing", "license response: 1 key(s)")
	if !strings.Contains(log, `"kids":["`+all.KID.Base64URL()+`"]`) || strings.Contains(log, "Shaka error") {
		t.Fatalf("license requests should name the one key:\n%s", log)
	}
}
