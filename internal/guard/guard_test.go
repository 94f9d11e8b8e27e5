package guard

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		root, p string
		want    bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b", "/a/b/c/d", true},
		{"/a/b", "/a/bc", false},
		{"/a/b", "/a", false},
		{"/a/b", "/a/b/../c", false},
		{"/a/b", "/a/b/..c", true},
	} {
		t.Run(c.root+"|"+c.p, func(t *testing.T) {
			if got := Within(filepath.FromSlash(c.root), filepath.Clean(filepath.FromSlash(c.p))); got != c.want {
				t.Fatalf("Within(%s, %s) = %v", c.root, c.p, got)
			}
		})
	}
}

func TestResolveAndWorkspace(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	os.MkdirAll(filepath.Join(ws, "deep", "pkg"), 0o755)
	os.WriteFile(filepath.Join(ws, KeyFile), []byte("{}"), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(ws, link); err != nil {
		t.Skip("no symlinks here")
	}
	r, err := Resolve(filepath.Join(link, "deep", "missing", "x"))
	if err != nil {
		t.Fatal(err)
	}
	rws, _ := Resolve(ws)
	if !Within(rws, r) {
		t.Fatalf("Resolve through a link: %s not inside %s", r, rws)
	}
	if got, ok := InsideWorkspace(filepath.Join(rws, "deep", "pkg")); !ok || got != rws {
		t.Fatalf("InsideWorkspace = %q %v", got, ok)
	}
	if got, ok := InsideWorkspace(rws); ok {
		t.Fatalf("the workspace folder is inside %q", got)
	}
	if f, ok, err := FindWorkspace(dir); !ok || err != nil || filepath.Base(f) != KeyFile {
		t.Fatalf("FindWorkspace = %q %v %v", f, ok, err)
	}
	// The walk does not follow links: a folder holding only a link to a workspace holds none.
	other := filepath.Join(dir, "other")
	os.MkdirAll(other, 0o755)
	os.Symlink(ws, filepath.Join(other, "ws-link"))
	if f, ok, _ := FindWorkspace(other); ok {
		t.Fatalf("followed a link to %s", f)
	}
}
