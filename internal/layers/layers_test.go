package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot is the repository root, relative to this package.
const moduleRoot = "../.."

// goList returns the module's packages as `go list -json ./...` describes them.
func goList(t *testing.T) []Package {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = moduleRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// TestLayers checks the module against the layer table.
func TestLayers(t *testing.T) {
	for _, v := range Check(goList(t), Rules, ToolkitUsers) {
		t.Error(v)
	}
}

// TestCheckFindsViolations shows that Check fails on graphs that break the rule: each case
// is the real graph (or a small one) with one bad edge added, and must be reported.
func TestCheckFindsViolations(t *testing.T) {
	real := goList(t)
	with := func(from string, imports, deps []string) []Package {
		out := append([]Package(nil), real...)
		for i, p := range out {
			if p.ImportPath == from {
				p.Imports = append(append([]string(nil), p.Imports...), imports...)
				p.Deps = append(append([]string(nil), p.Deps...), deps...)
				out[i] = p
				return out
			}
		}
		return append(out, Package{ImportPath: from, Imports: imports, Deps: deps})
	}
	cases := []struct {
		name string
		pkgs []Package
		want string // a substring of the expected violation; "" for none
	}{
		{"the module as it is", real, ""},
		{"engine imports the services", with("satchel/engine/verify", []string{"satchel/app/services"}, nil),
			"satchel/engine/verify (level 4) imports satchel/app/services (level 2)"},
		{"engine imports packaging (the old manifest edge)", with("satchel/engine/verify", []string{"satchel/packaging"}, nil),
			"imports satchel/packaging"},
		{"internal imports engine", with("satchel/internal/humanize", []string{"satchel/engine/drm"}, nil), "imports must point down"},
		{"the CLI imports the GUI", with("satchel/app/cli", []string{"satchel/ui"}, nil), "satchel/app/cli (level 1) imports satchel/ui (level 1)"},
		{"packaging imports the job runner", with("satchel/packaging", []string{"satchel/app/jobs"}, nil), "imports satchel/app/jobs"},
		{"services use the toolkit", with("satchel/app/services", nil, []string{"fyne.io/fyne/v2"}), "only satchel/ui, satchel may use"},
		{"the CLI pulls the toolkit in indirectly", with("satchel/app/cli", nil, []string{"fyne.io/fyne/v2/lang"}), "satchel/app/cli depends on fyne.io"},
		{"a package outside the table", with("satchel/app/extra", nil, nil), "satchel/app/extra is not in the layer table"},
		{"siblings in engine are fine", with("satchel/engine/verify", []string{"satchel/engine/media"}, nil), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Check(c.pkgs, Rules, ToolkitUsers)
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected violations: %q", got)
				}
				return
			}
			if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), c.want) {
				t.Fatalf("want a violation containing %q, got %q", c.want, got)
			}
		})
	}
}

// TestAdaptersCallOnlyServices checks that ui and app/cli never assemble an operation
// themselves (their non-test files call no packaging.Package, verify.Verify, …).
func TestAdaptersCallOnlyServices(t *testing.T) {
	for _, dir := range []string{"ui", "app/cli"} {
		files, err := filepath.Glob(filepath.Join(moduleRoot, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			bad, err := CheckCalls(f, src, Operations)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				t.Error(b)
			}
		}
	}
	// And the check sees such a call, also under another import name.
	src := `package cli
import pk "satchel/packaging"
func run() { pk.Package(nil, pk.Config{}, nil) }`
	bad, err := CheckCalls("x.go", src, Operations)
	if err != nil || len(bad) != 1 || !strings.Contains(bad[0], "satchel/packaging.Package") {
		t.Fatalf("CheckCalls missed a direct packaging call: %v %q", err, bad)
	}
}
