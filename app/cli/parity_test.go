package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/engine/verify"
)

// parity is one side of TestCLIAndServicesAgree: the CLI (in process, workspace A) or the
// services as the GUI calls them (workspace B). Each side has its own root folder; the
// package, publish and www folders inside have the same names, so manifests and CPIX
// documents (which name the package folder) can be compared byte for byte.
type parity struct {
	root string
	ws   string
	svc  *services.Service // nil for the CLI side
}

func (p parity) path(rel string) string { return filepath.Join(p.root, rel) }

// TestCLIAndServicesAgree runs package, verify and publish through the CLI and through the
// services the GUI calls, on the same inputs, and checks that they produce the same files and
// manifests, the same findings and the same records in the workspace. cenc IVs are random per
// run, so media files are compared by name and size; manifests, playlists, CPIX and policy.json
// byte for byte.
func TestCLIAndServicesAgree(t *testing.T) {
	in := t.TempDir()
	cpix := writeTestCPIX(t, filepath.Join(in, "studio.cpix.xml"))
	policyFile := filepath.Join(in, "rental.json")
	pol := policy.Preset(policy.PresetRental48h)
	pol.Widevine.PolicyOverrides.LicenseDurationSeconds = nil // a warning: old Android devices need it set
	b, err := policy.MarshalPublic(pol)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cli := parity{root: t.TempDir(), ws: t.TempDir()}
	gui := parity{root: t.TempDir(), ws: t.TempDir()}
	svc, err := services.Open(services.Options{Dir: gui.ws})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	gui.svc = svc
	ladder := []string{mediaFile(t, "ladder_240p.mp4"), mediaFile(t, "ladder_360p.mp4")}

	ops := []struct {
		name    string
		args    func(p parity) []string
		request func(p parity) func(context.Context) (*jobs.Job, error)
		compare func(t *testing.T, cliOut []byte, guiRes any)
	}{
		{
			name: "package",
			args: func(p parity) []string {
				return []string{"package", "--json", "--in", ladder[0], "--in", ladder[1], "--out", p.path("pkg"),
					"--segment", "2s", "--keys", cpix, "--policy", policyFile}
			},
			request: func(p parity) func(context.Context) (*jobs.Job, error) {
				req := services.DefaultPackageRequest()
				req.Inputs, req.OutDir, req.SegmentDuration = ladder, p.path("pkg"), 2*time.Second
				req.CPIXFile, req.PolicyFile = cpix, policyFile
				return func(ctx context.Context) (*jobs.Job, error) { return p.svc.StartPackage(ctx, req) }
			},
			compare: func(t *testing.T, cliOut []byte, guiRes any) {
				var doc packageOutput
				mustJSON(t, cliOut, &doc)
				res := guiRes.(*services.PackageResult)
				var warnings []string
				for _, w := range res.PolicyWarnings {
					warnings = append(warnings, w.String())
				}
				if strings.Join(doc.Warnings, "\n") != strings.Join(warnings, "\n") || len(warnings) == 0 {
					t.Errorf("policy warnings differ or are missing:\nCLI %q\nGUI %q", doc.Warnings, warnings)
				}
				if doc.KeySet != "" || res.KeySet != "" {
					t.Errorf("every key was given, yet a key set was saved: CLI %q, GUI %q", doc.KeySet, res.KeySet)
				}
				compareTrees(t, cli.path("pkg"), gui.path("pkg"))
			},
		},
		{
			name: "package with generated keys",
			args: func(p parity) []string {
				return []string{"package", "--json", "--in", ladder[0], "--out", p.path("gen"), "--formats", "dash", "--scheme", "cenc"}
			},
			request: func(p parity) func(context.Context) (*jobs.Job, error) {
				req := services.DefaultPackageRequest()
				req.Inputs, req.OutDir = ladder[:1], p.path("gen")
				req.Formats, req.Schemes = req.Formats[:1], []drm.Scheme{drm.SchemeCENC}
				return func(ctx context.Context) (*jobs.Job, error) { return p.svc.StartPackage(ctx, req) }
			},
			compare: func(t *testing.T, cliOut []byte, guiRes any) {
				var doc packageOutput
				mustJSON(t, cliOut, &doc)
				res := guiRes.(*services.PackageResult)
				if doc.KeySet == "" || res.KeySet == "" || len(doc.Keys) != len(res.Keys) {
					t.Errorf("generated keys: CLI saved %q (%d keys), GUI saved %q (%d keys)", doc.KeySet, len(doc.Keys), res.KeySet, len(res.Keys))
				}
				compareFileLists(t, cli.path("gen"), gui.path("gen"))
			},
		},
		{
			name: "verify",
			args: func(p parity) []string { return []string{"verify", "--json", p.path("pkg")} },
			request: func(p parity) func(context.Context) (*jobs.Job, error) {
				req := services.VerifyRequest{Path: p.path("pkg")}
				return func(ctx context.Context) (*jobs.Job, error) { return p.svc.StartVerify(ctx, req) }
			},
			compare: func(t *testing.T, cliOut []byte, guiRes any) {
				var rep verify.Report
				mustJSON(t, cliOut, &rep)
				res := guiRes.(*services.VerifyResult)
				if res.KeysFile == "" || res.PolicyFile == "" {
					t.Errorf("the package's keys.cpix.xml and policy.json were not found: %+v", res)
				}
				if rep.Failed() || res.Report.Failed() {
					t.Errorf("verification failed: CLI %+v, GUI %+v", rep.Summary, res.Report.Summary)
				}
				compareFindings(t, &rep, res.Report)
			},
		},
		{
			name: "publish",
			args: func(p parity) []string {
				return []string{"publish", "--json", p.path("pkg"), "--to", p.path("www"), "--verify"}
			},
			request: func(p parity) func(context.Context) (*jobs.Job, error) {
				req := services.PublishRequest{SrcDir: p.path("pkg"), Target: p.path("www"), Verify: true}
				return func(ctx context.Context) (*jobs.Job, error) { return p.svc.StartPublish(ctx, req) }
			},
			compare: func(t *testing.T, cliOut []byte, guiRes any) {
				var doc services.PublishResult
				mustJSON(t, cliOut, &doc)
				res := guiRes.(*services.PublishResult)
				if strings.Join(doc.Report.Uploaded, ",") != strings.Join(res.Report.Uploaded, ",") ||
					strings.Join(doc.Report.Withheld, ",") != strings.Join(res.Report.Withheld, ",") {
					t.Errorf("published files differ:\nCLI %v (withheld %v)\nGUI %v (withheld %v)",
						doc.Report.Uploaded, doc.Report.Withheld, res.Report.Uploaded, res.Report.Withheld)
				}
				if doc.Verify == nil || res.Verify == nil {
					t.Fatalf("the published package was not verified: CLI %v, GUI %v", doc.Verify != nil, res.Verify != nil)
				}
				compareFindings(t, doc.Verify, res.Verify)
				compareTrees(t, cli.path("www"), gui.path("www"))
			},
		},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append(op.args(cli), "--workspace", cli.ws)...)
			if code != ExitOK {
				t.Fatalf("CLI %s: exit %d\n%s", op.name, code, stderr)
			}
			j, err := op.request(gui)(context.Background())
			if err != nil {
				t.Fatalf("services %s: %v", op.name, err)
			}
			res, err := j.Wait()
			if err != nil {
				t.Fatalf("services %s: %v", op.name, err)
			}
			op.compare(t, []byte(stdout), res)
		})
	}
	t.Run("stored records", func(t *testing.T) {
		a, err := services.Open(services.Options{Dir: cli.ws})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if got, want := records(t, a, cli.root), records(t, svc, gui.root); got != want {
			t.Errorf("workspace records differ:\nCLI:\n%s\nGUI:\n%s", got, want)
		}
	})
}

// writeTestCPIX writes a CPIX document with fresh AUDIO and SD keys and returns its path.
func writeTestCPIX(t *testing.T, path string) string {
	t.Helper()
	var keys []drm.ContentKey
	for _, tt := range []string{drm.TrackAudio, drm.TrackSD} {
		k, err := drm.RandomContentKey(tt)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	doc, err := drm.NewCPIX(drm.Signalling{Scheme: drm.SchemeCENC, Keys: keys, Systems: drm.AllSystems}, "studio")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := drm.WriteCPIX(&b, doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, b)
	}
}

// files lists the files under dir (relative, slash-separated) with their sizes.
func files(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareFileLists(t *testing.T, a, b string) map[string]int64 {
	t.Helper()
	fa, fb := files(t, a), files(t, b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Errorf("%d files from the CLI, %d from the services", len(fa), len(fb))
	}
	for rel := range fa {
		if _, ok := fb[rel]; !ok {
			t.Errorf("%s: only the CLI wrote it", rel)
		}
	}
	return fa
}

// compareTrees compares two packages: the same files with the same sizes; text files (and
// every file whose bytes do not depend on random IVs) byte for byte.
func compareTrees(t *testing.T, a, b string) {
	t.Helper()
	fa, fb := compareFileLists(t, a, b), files(t, b)
	for rel, size := range fa {
		if fb[rel] != size {
			t.Errorf("%s: %d bytes from the CLI, %d from the services", rel, size, fb[rel])
			continue
		}
		switch filepath.Ext(rel) {
		case ".mpd", ".m3u8", ".xml", ".json":
			ba, _ := os.ReadFile(filepath.Join(a, rel))
			bb, _ := os.ReadFile(filepath.Join(b, rel))
			if !bytes.Equal(ba, bb) {
				t.Errorf("%s differs:\nCLI:\n%s\nservices:\n%s", rel, ba, bb)
			}
		}
	}
}

var (
	tempPath = regexp.MustCompile(`/[^\s"]*/(pkg|www|gen)\b`)
	loopback = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	instant  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
)

// normalize removes what legitimately differs between the two runs: the temp folders, the
// ports of the private license servers and the license expiry times (now + the policy's
// duration).
func normalize(s string) string {
	s = loopback.ReplaceAllString(tempPath.ReplaceAllString(s, "…/$1"), "127.0.0.1:PORT")
	return instant.ReplaceAllString(s, "TIME")
}

// compareFindings compares two reports' findings (order, status, subject and message).
func compareFindings(t *testing.T, a, b *verify.Report) {
	t.Helper()
	line := func(f verify.Finding) string {
		return normalize(strings.Join([]string{f.Category, string(f.Status), f.Subject, f.Message}, " | "))
	}
	var la, lb []string
	for _, f := range a.Findings {
		la = append(la, line(f))
	}
	for _, f := range b.Findings {
		lb = append(lb, line(f))
	}
	if len(la) == 0 || strings.Join(la, "\n") != strings.Join(lb, "\n") {
		t.Errorf("findings differ:\nCLI:\n%s\nservices:\n%s", strings.Join(la, "\n"), strings.Join(lb, "\n"))
	}
}

// records summarises what a workspace holds after the run, with the run's own folder
// replaced: jobs (kind, state, normalized config), key sets, reports and publications.
func records(t *testing.T, s *services.Service, root string) string {
	t.Helper()
	var b strings.Builder
	hist, err := s.JobHistory("")
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(hist, func(i, j int) bool { return hist[i].Created.Before(hist[j].Created) })
	for _, r := range hist {
		b.WriteString("job " + string(r.Kind) + " " + string(r.State) + " " + normalize(strings.ReplaceAll(string(r.Config), root, "ROOT")) + "\n")
	}
	sets, err := s.KeySets()
	if err != nil {
		t.Fatal(err)
	}
	for _, ks := range sets {
		var types []string
		for _, k := range ks.Keys {
			types = append(types, k.TrackType)
		}
		b.WriteString("key set " + normalize(strings.Fields(ks.Name)[0]) + " " + strings.Join(types, ",") + "\n")
	}
	reps, err := s.Reports()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		b.WriteString(normalize("report " + strings.ReplaceAll(r.Target, root, "ROOT") + " " + r.Verdict() + "\n"))
	}
	pubs, err := s.Publications()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pubs {
		b.WriteString(strings.ReplaceAll(normalize("publication "+p.Src+" → "+p.Target), root, "ROOT"))
		b.WriteString(" " + strconv.Itoa(p.Uploaded) + "/" + strconv.Itoa(p.Skipped) + "\n")
	}
	return b.String()
}
