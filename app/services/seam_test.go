package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/app/store"
	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/internal/azuritetest"
	"satchel/internal/field"
	"satchel/packaging"
)

var azurite *azuritetest.Server

func TestMain(m *testing.M) { os.Exit(azuritetest.Main(m.Run, "../..", &azurite)) }

// testPackage packages one rung into a fresh folder and returns it.
func testPackage(t *testing.T, s *Service) string {
	t.Helper()
	req := DefaultPackageRequest()
	req.Inputs, req.OutDir, req.SegmentDuration = []string{media + "ladder_240p.mp4"}, filepath.Join(t.TempDir(), "pkg"), 2*time.Second
	runJob(t, func() (*jobs.Job, error) { return s.StartPackage(context.Background(), req) })
	return req.OutDir
}

// TestAdHocCredentialsAreNotStored publishes with credentials given in the request and then
// proves the workspace kept nothing of them: no target, no secret, no trace in the job
// history or anywhere in the database file, and a second run without them has none.
func TestAdHocCredentialsAreNotStored(t *testing.T) {
	if azurite == nil {
		t.Skip("Azurite not installed")
	}
	for _, v := range []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"} {
		t.Setenv(v, "")
	}
	s := open(t)
	pkg := testPackage(t, s)
	creds := publish.Credentials{ConnectionString: azurite.ConnectionString(azuritetest.Key)}
	res := runJob(t, func() (*jobs.Job, error) {
		return s.StartPublish(context.Background(), PublishRequest{SrcDir: pkg, Target: "azure://adhoc/show", Credentials: &creds, Verify: true})
	}).(*PublishResult)
	if len(res.Report.Uploaded) == 0 || res.Verify == nil || res.Verify.Failed() {
		t.Fatalf("publish with ad-hoc credentials: %+v", res.Report)
	}
	if ts, err := s.Targets(); err != nil || len(ts) != 0 {
		t.Fatalf("a publish run saved targets %+v (%v)", ts, err)
	}
	secrets, err := s.WS.List(store.BucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range secrets {
		if strings.HasPrefix(r.ID, "target/") {
			t.Fatalf("a publish run stored secret %s", r.ID)
		}
	}
	hist, err := s.JobHistory(KindPublish)
	if err != nil || len(hist) != 1 || strings.Contains(string(hist[0].Config), "AccountKey") {
		t.Fatalf("job history: %v %+v", err, hist)
	}
	// The credentials are gone: the same request without them has none to use.
	if _, err = s.StartPublish(context.Background(), PublishRequest{SrcDir: pkg, Target: "azure://adhoc/show"}); !errors.Is(err, publish.ErrNoCredentials) {
		t.Fatalf("second run without credentials: %v, want ErrNoCredentials", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(s.Dir, store.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(azuritetest.Key)) || bytes.Contains(db, []byte("AccountKey")) {
		t.Fatal("the account key is in the workspace database")
	}
}

func TestFindBeside(t *testing.T) {
	pkg := filepath.Join(t.TempDir(), "pkg")
	for _, d := range []string{"cenc/360p", "download"} {
		if err := os.MkdirAll(filepath.Join(pkg, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{manifest.FileKeys, manifest.FileMPD, "cenc/360p/init.mp4", "download/360p.mp4"} {
		if err := os.WriteFile(filepath.Join(pkg, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys := filepath.Join(pkg, manifest.FileKeys)
	cases := []struct {
		name, target, file, want string
	}{
		{"folder", pkg, manifest.FileKeys, keys},
		{"manifest", filepath.Join(pkg, manifest.FileMPD), manifest.FileKeys, keys},
		{"single file", filepath.Join(pkg, "download/360p.mp4"), manifest.FileKeys, keys},
		{"init segment two levels down", filepath.Join(pkg, "cenc/360p/init.mp4"), manifest.FileKeys, keys},
		{"rendition folder", filepath.Join(pkg, "cenc/360p"), manifest.FileKeys, keys},
		{"absent", pkg, manifest.FilePolicy, ""},
		{"url", "http://cdn.example.com/pkg/manifest.mpd", manifest.FileKeys, ""},
		{"missing target", filepath.Join(pkg, "nope.mpd"), manifest.FileKeys, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := FindBeside(c.target, c.file); got != c.want {
				t.Fatalf("FindBeside(%s, %s) = %q, want %q", c.target, c.file, got, c.want)
			}
		})
	}
}

// TestValidate checks that each request names the field at fault.
func TestValidate(t *testing.T) {
	pkg := t.TempDir()
	good := DefaultPackageRequest()
	good.Inputs, good.OutDir = []string{media + "ladder_240p.mp4"}, filepath.Join(pkg, "out")
	with := func(f func(*PackageRequest)) PackageRequest {
		r := good
		f(&r)
		return r
	}
	key, _ := drm.RandomContentKey("")
	cases := []struct {
		name  string
		req   interface{ Validate() error }
		field string
	}{
		{"package ok", good, ""},
		{"no inputs", with(func(r *PackageRequest) { r.Inputs = nil }), "inputs"},
		{"no output", with(func(r *PackageRequest) { r.OutDir = "" }), "out_dir"},
		{"no systems", with(func(r *PackageRequest) { r.Systems = nil }), "systems"},
		{"no schemes", with(func(r *PackageRequest) { r.Schemes = nil }), "schemes"},
		{"no formats", with(func(r *PackageRequest) { r.Formats = nil }), "formats"},
		{"segment too long", with(func(r *PackageRequest) { r.SegmentDuration = time.Minute }), "segment_duration"},
		{"negative clear lead", with(func(r *PackageRequest) { r.ClearLead = -time.Second }), "clear_lead"},
		{"key without track type", with(func(r *PackageRequest) { r.Keys = []drm.ContentKey{key} }), "keys"},
		{"policy twice", with(func(r *PackageRequest) { r.Policy, r.PolicyFile = "a", "b.json" }), "policy"},
		{"concurrency", with(func(r *PackageRequest) { r.Concurrency = 1000 }), "concurrency"},
		{"verify ok", VerifyRequest{Path: pkg}, ""},
		{"verify no path", VerifyRequest{}, "path"},
		{"verify missing path", VerifyRequest{Path: filepath.Join(pkg, "nope")}, "path"},
		{"verify bad license url", VerifyRequest{Path: pkg, LicenseURL: "ftp://x"}, "license_url"},
		{"verify missing source", VerifyRequest{Path: pkg, Sources: []string{"nope.mp4"}}, "sources"},
		{"publish ok", PublishRequest{SrcDir: pkg, Target: "azure://media/show"}, ""},
		{"publish no target", PublishRequest{SrcDir: pkg}, "target"},
		{"publish no source", PublishRequest{Target: "www"}, "src_dir"},
		{"publish negative expiry", PublishRequest{SrcDir: pkg, Target: "www", SASExpiry: -time.Hour}, "sas_expiry"},
		{"publish block size", PublishRequest{SrcDir: pkg, Target: "www", BlockSize: 10}, "block_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.req.Validate()
			var fe *field.Error
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("valid request refused: %v", err)
			case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
				t.Fatalf("got %v, want a problem with %s", err, c.field)
			case fe != nil && (strings.Contains(fe.Error(), "--") || fe.Reason == ""):
				t.Fatalf("%q: lower layers say what is wrong, in no edge's words", fe.Error())
			}
		})
	}
}

// TestMemoryLimit checks that a package job's soft memory limit is relative to what the
// process holds, and is lifted when the last job ends.
func TestMemoryLimit(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: the services leave the limit alone")
	}
	before := debug.SetMemoryLimit(-1)
	release1 := limitMemory()
	during := debug.SetMemoryLimit(-1)
	release2 := limitMemory()
	if during == math.MaxInt64 || during < packagingHeadroom || during > runtimeMemory()+2*packagingHeadroom {
		t.Fatalf("limit during packaging %d (process holds %d)", during, runtimeMemory())
	}
	release1()
	release1() // idempotent
	if got := debug.SetMemoryLimit(-1); got != during {
		t.Fatalf("limit lifted while a job still runs: %d", got)
	}
	release2()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("limit after the jobs %d, want %d", got, before)
	}
}

func TestRemedyFor(t *testing.T) {
	cases := []struct {
		err  error
		want Remedy
	}{
		{fmt.Errorf("open workspace: %w", &store.InUseError{Path: "/ws"}), RemedyCloseOther},
		{&packaging.OutputExistsError{Dir: "/out"}, RemedyNewOutput},
		{fmt.Errorf("decrypt: %w", &cenc.MissingKeyError{}), RemedyGiveKey},
		{&NotFoundError{What: "key set", Name: "x"}, RemedyListKeySets},
		{&NotFoundError{What: "policy", Name: "x"}, RemedyListPolicies},
		{&NotFoundError{What: "publish target", Name: "x"}, RemedyCheckName},
		{&publish.IncompleteError{Target: "azure://a/b", Err: errors.New("reset")}, RemedyRepeat},
		{publish.ErrNoCredentials, RemedyGiveCredentials},
		{ErrNoSelection, RemedySelectAssets},
		{errors.New("anything else"), RemedyNone},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			if got := RemedyFor(c.err); got != c.want {
				t.Fatalf("RemedyFor = %d, want %d", got, c.want)
			}
		})
	}
}

// TestWorkspaceSettingsApplyToEveryCaller checks that a request without its own concurrency
// takes the workspace setting, for the CLI and the GUI alike (both send requests here).
func TestWorkspaceSettingsApplyToEveryCaller(t *testing.T) {
	s := open(t)
	st, err := s.Settings()
	if err != nil {
		t.Fatal(err)
	}
	st.Concurrency = 3
	if err := s.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	req := DefaultPackageRequest()
	req.Inputs, req.OutDir = []string{media + "ladder_240p.mp4"}, filepath.Join(t.TempDir(), "out")
	plan, err := s.planPackage(req)
	if err != nil || plan.cfg.Concurrency != 3 {
		t.Fatalf("package plan: %v, concurrency %d, want the setting 3", err, plan.cfg.Concurrency)
	}
	req.Concurrency = 1
	if plan, err = s.planPackage(req); err != nil || plan.cfg.Concurrency != 1 {
		t.Fatalf("an explicit concurrency must win: %v", err)
	}
	pub, err := s.planPublish(PublishRequest{SrcDir: t.TempDir(), Target: t.TempDir()})
	if err != nil || pub.opts.Concurrency != 3 {
		t.Fatalf("publish plan: %v, concurrency %d, want 3", err, pub.opts.Concurrency)
	}
	st.Concurrency = 1000
	var fe *field.Error
	if err := s.SaveSettings(st); !errors.As(err, &fe) || fe.Field != "concurrency" {
		t.Fatalf("saving concurrency 1000: %v", err)
	}
}
