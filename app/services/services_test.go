package services

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
)

const media = "../../testdata/media/"

func open(t *testing.T) *Service {
	t.Helper()
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKeySetsAndPolicies(t *testing.T) {
	s := open(t)
	ks, err := s.GenerateKeySet("show", []string{"AUDIO", "SD", "HD"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.KeySetKeys("show")
	if err != nil || len(got) != 3 || got[1].Key != ks.Keys[1].Key {
		t.Fatalf("reload key set: %v", err)
	}
	var cpix bytes.Buffer
	if err := s.ExportCPIX("show", &cpix); err != nil {
		t.Fatal(err)
	}
	imp, err := s.ImportCPIX(bytes.NewReader(cpix.Bytes()), "copy")
	if err == nil {
		t.Fatalf("importing KIDs another key set holds was accepted: %+v", imp)
	}
	s.DeleteKeySet("show")
	if imp, err = s.ImportCPIX(bytes.NewReader(cpix.Bytes()), "copy"); err != nil || len(imp.Keys) != 3 || imp.Keys[2].TrackType != "HD" {
		t.Fatalf("import CPIX: %v %+v", err, imp)
	}
	if _, err := s.KeySet("show"); err == nil {
		t.Fatal("deleted key set still there")
	}
	// Key material never sits in the keysets bucket.
	raw, _ := s.WS.List("keysets")
	for _, r := range raw {
		if bytes.Contains(r.Data, []byte(imp.Keys[0].KeyHex())) {
			t.Fatal("key material stored in clear")
		}
	}
	p := policy.Preset(policy.PresetRental48h)
	p.Name = "Studio rental"
	p.FairPlay.ASk = "0123456789abcdef0123456789abcdef"
	if err := s.SavePolicy(p); err != nil {
		t.Fatal(err)
	}
	back, err := s.PolicyByName("Studio rental")
	if err != nil || back.FairPlay.ASk != p.FairPlay.ASk {
		t.Fatalf("policy round trip: %v", err)
	}
	if pre, err := s.PolicyByName(policy.PresetTrainer); err != nil || pre.ClearKey == nil {
		t.Fatalf("preset by name: %v", err)
	}
	list, _ := s.Policies()
	if len(list) != 1 {
		t.Fatalf("policies %d", len(list))
	}
}

func runJob(t *testing.T, start func() (*jobs.Job, error)) any {
	t.Helper()
	j, err := start()
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.Wait()
	if err != nil {
		t.Fatalf("job %s: %v", j.Snapshot().Title, err)
	}
	return res
}

func TestPackageVerifyPublishServe(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for _, f := range []string{"ladder_240p.mp4", "ladder_360p.mp4", "misaligned_360p.mp4"} {
		if _, err := s.AddAsset(ctx, media+f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SelectedLadder(); err == nil || !strings.Contains(err.Error(), "misaligned_360p.mp4") {
		t.Fatalf("misaligned ladder not reported: %v", err)
	}
	assets, _ := s.Assets()
	for _, a := range assets {
		if strings.Contains(a.Path, "misaligned") {
			s.SetSelected(a.ID, false)
		}
	}
	paths, err := s.SelectedLadder()
	if err != nil || len(paths) != 2 {
		t.Fatalf("ladder %v %v", paths, err)
	}
	out := filepath.Join(t.TempDir(), "pkg")
	res := runJob(t, func() (*jobs.Job, error) {
		req := DefaultPackageRequest()
		req.Inputs, req.OutDir, req.Policy, req.SegmentDuration = paths, out, policy.PresetRental48h, 2*time.Second
		return s.StartPackage(ctx, req)
	})
	pr := res.(*PackageResult)
	if sets, _ := s.KeySets(); len(sets) != 1 || len(sets[0].Keys) != len(pr.Keys) {
		t.Fatalf("generated keys not saved as a key set: %+v", sets)
	}
	if _, err := os.Stat(filepath.Join(out, "policy.json")); err != nil {
		t.Fatal("policy.json missing")
	}
	rep := runJob(t, func() (*jobs.Job, error) {
		return s.StartVerify(ctx, VerifyRequest{Path: out, Policy: policy.PresetRental48h})
	}).(*VerifyResult).Report
	if rep.Failed() {
		t.Fatalf("verify failed: %+v", rep.Summary)
	}
	if reps, _ := s.Reports(); len(reps) != 1 {
		t.Fatal("report not saved")
	}
	hist, _ := s.JobHistory("")
	if len(hist) != 2 || hist[0].Kind != KindVerify {
		t.Fatalf("history %+v", hist)
	}

	// Publish to a folder and record the publication.
	www := filepath.Join(t.TempDir(), "www")
	pres := runJob(t, func() (*jobs.Job, error) { return s.StartPublish(ctx, PublishRequest{SrcDir: out, Target: www}) }).(*PublishResult)
	if len(pres.Report.Uploaded) == 0 {
		t.Fatal("nothing published")
	}
	if pubs, _ := s.Publications(); len(pubs) != 1 {
		t.Fatal("publication not recorded")
	}
	if err := s.SaveTarget(PublishTarget{Name: "cdn", URL: "azure://media/show"}, publish.Credentials{ConnectionString: "x"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.TargetCredentials("cdn"); err != nil || c.ConnectionString != "x" {
		t.Fatalf("target credentials: %v", err)
	}

	// License server with the demo player: ClearKey license for the packaged KIDs, ledger.
	url, err := s.StartLicenseServer(ctx, LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	ch, stop := s.SubscribeLedger()
	defer stop()
	lic, err := license.NewClient(url, "").ClearKey(ctx, []drm.KID{pr.Keys[0].KID}, true)
	if err != nil || lic.Keys[0].Key != pr.Keys[0].Key {
		t.Fatalf("clearkey via service: %v", err)
	}
	select {
	case e := <-ch:
		if e.System != "clearkey" || !e.Persistent {
			t.Fatalf("ledger event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ledger event")
	}
	if l, _ := s.Ledger(); len(l) != 1 {
		t.Fatalf("ledger %d entries", len(l))
	}
	resp, err := http.Get(url + "/api/downloads")
	if err != nil {
		t.Fatal(err)
	}
	var dl []Download
	json.NewDecoder(resp.Body).Decode(&dl)
	resp.Body.Close()
	if len(dl) != 2 || !strings.Contains(dl[0].Codecs, "avc1") {
		t.Fatalf("downloads %+v", dl)
	}
	for path, want := range map[string]int{"/player/": 200, "/content/manifest.mpd": 200, "/content/keys.cpix.xml": 403} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
