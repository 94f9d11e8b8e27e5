package services

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"satchel/app/publish"
	"satchel/engine/manifest"
	"satchel/engine/probe"
	"satchel/internal/guard"
)

// contentRoot serves a package folder at /content/ for the demo player. It serves only regular
// files inside the folder once symbolic links are resolved; never key or policy files (at any
// depth, whatever a link is called), workspace files or hidden files; never named pipes or
// devices (they would hang a request or stream forever).
type contentRoot struct {
	dir string // resolved (guard.Resolve)
}

func newContentRoot(dir string) (*contentRoot, error) {
	r, err := guard.Resolve(dir)
	if err != nil {
		return nil, err
	}
	return &contentRoot{dir: r}, nil
}

// The content handler's refusals: errForbidden (403) for names that are never served (keys,
// policy, workspace and hidden files, and links to them), errNotServed (404) for anything else
// it does not serve (missing, outside the folder, not a regular file).
var (
	errForbidden = errors.New("never served")
	errNotServed = errors.New("not served")
)

// forbiddenName reports whether a path element may never be served.
func forbiddenName(name string) bool {
	return strings.HasPrefix(name, ".") || manifest.IsPrivate(name) || guard.IsWorkspaceFile(name)
}

// resolve maps rel (slash-separated, from the URL) to a regular file inside the root.
func (c *contentRoot) resolve(rel string) (string, error) {
	clean := path.Clean("/" + rel)
	for _, el := range strings.Split(clean, "/") {
		if el != "" && forbiddenName(el) {
			return "", errForbidden
		}
	}
	real, err := filepath.EvalSymlinks(filepath.Join(c.dir, filepath.FromSlash(clean)))
	if err != nil {
		return "", errNotServed
	}
	if !guard.Within(c.dir, real) {
		return "", errNotServed // a link out of the folder
	}
	rr, _ := filepath.Rel(c.dir, real)
	for _, el := range strings.Split(filepath.ToSlash(rr), "/") {
		if el != "." && forbiddenName(el) {
			return "", errForbidden // a link to a key file under another name
		}
	}
	st, err := os.Stat(real)
	if err != nil || !st.Mode().IsRegular() {
		return "", errNotServed
	}
	return real, nil
}

// ServeHTTP serves GET/HEAD of the file at the request path (already stripped of /content/).
func (c *contentRoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	real, err := c.resolve(r.URL.Path)
	if errors.Is(err, errForbidden) {
		http.Error(w, "keys, policies and workspace files are not served", http.StatusForbidden)
		return
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	f, err := openRegular(real)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r) // swapped for a pipe or device since resolve
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", publish.ContentType(r.URL.Path))
	http.ServeContent(w, r, path.Base(r.URL.Path), st.ModTime(), f)
}

// Download is a single-file rendition the demo player can play.
type Download struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Codecs string `json:"codecs"`
}

// Bounds of the downloads list: a hostile or huge download/ folder costs at most this much.
const (
	maxDownloads     = 64
	downloadProbeFor = 5 * time.Second
)

// downloads lists the playable single-file MP4s in the package's download/ folder: regular
// files inside the root (links resolved), at most maxDownloads, each probed within
// downloadProbeFor. A file that cannot be probed is left out: the player lists what it plays.
func (c *contentRoot) downloads(ctx context.Context) ([]Download, error) {
	entries, err := os.ReadDir(filepath.Join(c.dir, manifest.DirDownload))
	if errors.Is(err, fs.ErrNotExist) {
		return []Download{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", manifest.DirDownload, err)
	}
	out := []Download{}
	for _, e := range entries {
		if len(out) == maxDownloads || ctx.Err() != nil {
			break
		}
		rel := manifest.DirDownload + "/" + e.Name()
		if !strings.EqualFold(path.Ext(e.Name()), ".mp4") {
			continue
		}
		real, err := c.resolve(rel)
		if err != nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, downloadProbeFor)
		a, err := probe.Probe(pctx, real)
		cancel()
		if err != nil {
			continue
		}
		var codecs []string
		for _, t := range a.Tracks {
			codecs = append(codecs, t.Codec)
		}
		out = append(out, Download{Name: e.Name(), URL: "/content/" + rel, Codecs: strings.Join(codecs, ",")})
	}
	return out, nil
}
