// Package publish uploads a packaged folder to Azure Blob Storage (azblob) or copies it to a
// local folder: correct content types and cache headers, Content-MD5 set and checked,
// unchanged files skipped, manifests last (a half-published package is never advertised), an
// optional CORS rule for browser players, and read-only SAS URLs for downloads.
package publish

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Target is where a package goes: an Azure container and prefix, or a local folder.
type Target struct {
	Kind      string // "azure" or "dir"
	Container string
	Prefix    string
	Dir       string
}

func (t Target) String() string {
	if t.Kind == "dir" {
		return t.Dir
	}
	return "azure://" + path.Join(t.Container, t.Prefix)
}

// ParseTarget parses azure://CONTAINER/PREFIX or a folder path.
func ParseTarget(s string) (Target, error) {
	if rest, ok := strings.CutPrefix(s, "azure://"); ok {
		c, p, _ := strings.Cut(rest, "/")
		if !validContainer(c) {
			return Target{}, fmt.Errorf("container %q is not a valid Azure container name (3–63 lowercase letters, digits and hyphens)", c)
		}
		return Target{Kind: "azure", Container: c, Prefix: strings.Trim(p, "/")}, nil
	}
	if strings.Contains(s, "://") {
		return Target{}, fmt.Errorf("destination %q: use azure://CONTAINER/PREFIX or a folder path", s)
	}
	if s == "" {
		return Target{}, errors.New("no destination given")
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return Target{}, err
	}
	return Target{Kind: "dir", Dir: abs}, nil
}

func validContainer(c string) bool {
	if len(c) < 3 || len(c) > 63 || c[0] == '-' || c[len(c)-1] == '-' || strings.Contains(c, "--") {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Options configure a publish run.
type Options struct {
	SrcDir               string
	Target               Target
	Creds                Credentials
	Concurrency          int   // parallel files (default 8)
	BlockSize            int64 // default 4 MiB
	CacheControlManifest string
	CacheControlMedia    string
	CORSOrigin           string // set a CORS rule for this origin ("" leaves CORS alone)
	IncludeKeys          bool   // also publish keys.cpix.xml and policy.json (normally private)
	Progress             func(Progress)
	// Verify, when set, runs after a successful publish with the URL of the main manifest.
	Verify func(ctx context.Context, manifestURL string) error
	// Retries per request (default 3), and the per-try timeout (default 30 s).
	MaxRetries int
	TryTimeout time.Duration
}

// Progress is a publish progress event.
type Progress struct {
	Files      int     `json:"files"`
	TotalFiles int     `json:"total_files"`
	Bytes      int64   `json:"bytes"`
	TotalBytes int64   `json:"total_bytes"`
	Rate       float64 `json:"rate"` // bytes/s
	Current    string  `json:"current"`
}

// Report is the result of a publish run.
type Report struct {
	Target    string        `json:"target"`
	BaseURL   string        `json:"base_url"`
	Uploaded  []string      `json:"uploaded"`
	Skipped   []string      `json:"skipped"`
	Withheld  []string      `json:"withheld,omitempty"` // keys and policy, not published
	Published []string      `json:"published"`          // every file now at the target
	Order     []string      `json:"-"`                  // upload completion order (tests)
	Bytes     int64         `json:"bytes"`
	Duration  time.Duration `json:"duration_ns"`
	CORSRule  *CORSRule     `json:"cors_rule,omitempty"`
	Manifest  string        `json:"manifest,omitempty"` // main manifest URL (or path)
}

// CORSRule is the CORS rule in use on the blob service.
type CORSRule struct {
	AllowedOrigins string `json:"allowed_origins"`
	AllowedMethods string `json:"allowed_methods"`
	ExposedHeaders string `json:"exposed_headers"`
	MaxAgeSeconds  int32  `json:"max_age_seconds"`
}

func (c *CORSRule) String() string {
	return fmt.Sprintf("origins %s, methods %s, exposed headers %s, max age %ds", c.AllowedOrigins, c.AllowedMethods, c.ExposedHeaders, c.MaxAgeSeconds)
}

// file is one local file to publish.
type file struct {
	rel      string
	abs      string
	size     int64
	md5      []byte
	manifest bool
}

// ContentType returns the MIME type for a package file.
func ContentType(rel string) string {
	switch strings.ToLower(path.Ext(rel)) {
	case ".mpd":
		return "application/dash+xml"
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".m4s":
		return "video/iso.segment"
	case ".mp4":
		switch {
		case strings.Contains(rel, "/audio/") || strings.Contains(rel, "/audio_"):
			return "audio/mp4"
		case strings.HasPrefix(rel, "text/") || strings.Contains(rel, "/text/"):
			return "application/mp4" // subtitle init segments (wvtt)
		}
		return "video/mp4"
	case ".vtt":
		return "text/vtt; charset=utf-8"
	case ".m4a":
		return "audio/mp4"
	case ".xml":
		return "application/xml"
	case ".json":
		return "application/json"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return "application/octet-stream"
}

func isManifest(rel string) bool {
	ext := strings.ToLower(path.Ext(rel))
	return ext == ".mpd" || ext == ".m3u8"
}

func isPrivate(rel string) bool { return rel == "keys.cpix.xml" || rel == "policy.json" }

// scan lists the package files with their MD5s.
func scan(ctx context.Context, src string, includeKeys bool) (files, withheld []file, err error) {
	st, err := os.Stat(src)
	if err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("publish %s: not a folder; give the output folder of `satchel package`", src)
	}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(path.Base(rel), ".") {
			return nil
		}
		f := file{rel: rel, abs: p, manifest: isManifest(rel)}
		if isPrivate(rel) && !includeKeys {
			withheld = append(withheld, f)
			return nil
		}
		h := md5.New()
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		n, err := io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return err
		}
		f.size, f.md5 = n, h.Sum(nil)
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("publish %s: %w", src, err)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("publish %s: the folder is empty", src)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, withheld, nil
}

// backend is one kind of destination.
type backend interface {
	existing(ctx context.Context) (map[string][]byte, error) // rel → MD5 of what is there
	put(ctx context.Context, f file, o *Options, progress func(int64)) error
	url(rel string) string
	cors(ctx context.Context, origin string) (*CORSRule, error)
}

// Publish publishes opts.SrcDir to opts.Target.
func Publish(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.BlockSize <= 0 {
		opts.BlockSize = 4 << 20
	}
	if opts.CacheControlManifest == "" {
		opts.CacheControlManifest = "public, max-age=60"
	}
	if opts.CacheControlMedia == "" {
		opts.CacheControlMedia = "public, max-age=31536000, immutable"
	}
	files, withheld, err := scan(ctx, opts.SrcDir, opts.IncludeKeys)
	if err != nil {
		return nil, err
	}
	var be backend
	switch opts.Target.Kind {
	case "dir":
		be = &dirBackend{dir: opts.Target.Dir}
	case "azure":
		if be, err = newAzure(ctx, opts); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("publish: no destination")
	}
	rep := &Report{Target: opts.Target.String(), BaseURL: be.url("")}
	for _, w := range withheld {
		rep.Withheld = append(rep.Withheld, w.rel)
	}
	if opts.CORSOrigin != "" {
		if rep.CORSRule, err = be.cors(ctx, opts.CORSOrigin); err != nil {
			return nil, err
		}
	}
	have, err := be.existing(ctx)
	if err != nil {
		return nil, err
	}
	var media, manifests, todo []file
	var total int64
	for _, f := range files {
		rep.Published = append(rep.Published, f.rel)
		if m, ok := have[f.rel]; ok && string(m) == string(f.md5) {
			rep.Skipped = append(rep.Skipped, f.rel)
			continue
		}
		total += f.size
		if f.manifest {
			manifests = append(manifests, f)
		} else {
			media = append(media, f)
		}
	}
	todo = append(todo, media...)
	var done atomic.Int64
	var nfiles atomic.Int64
	var mu sync.Mutex
	report := func(current string) {
		if opts.Progress == nil {
			return
		}
		el := time.Since(start).Seconds()
		b := done.Load()
		p := Progress{Files: int(nfiles.Load()), TotalFiles: len(media) + len(manifests), Bytes: b, TotalBytes: total, Current: current}
		if el > 0 {
			p.Rate = float64(b) / el
		}
		opts.Progress(p)
	}
	upload := func(batch []file) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		sem := make(chan struct{}, opts.Concurrency)
		var wg sync.WaitGroup
		for _, f := range batch {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func(f file) {
				defer wg.Done()
				defer func() { <-sem }()
				var last int64
				err := be.put(ctx, f, &opts, func(n int64) {
					if n > last {
						done.Add(n - last)
						last = n
					}
				})
				if err != nil {
					cancel(fmt.Errorf("%s: %w", f.rel, err))
					return
				}
				done.Add(f.size - last)
				nfiles.Add(1)
				mu.Lock()
				rep.Uploaded = append(rep.Uploaded, f.rel)
				rep.Order = append(rep.Order, f.rel)
				rep.Bytes += f.size
				mu.Unlock()
				report(f.rel)
			}(f)
		}
		wg.Wait()
		return context.Cause(ctx)
	}
	// Media first; manifests only once every segment is in place.
	if err := upload(todo); err != nil {
		return rep, fmt.Errorf("publish to %s stopped: %w; run the same command again to finish (unchanged files are skipped)", rep.Target, err)
	}
	if err := upload(manifests); err != nil {
		return rep, fmt.Errorf("publish to %s stopped: %w; run the same command again to finish", rep.Target, err)
	}
	sort.Strings(rep.Uploaded)
	rep.Duration = time.Since(start)
	for _, m := range []string{"manifest.mpd", "master.m3u8"} {
		for _, f := range files {
			if f.rel == m {
				rep.Manifest = be.url(m)
				break
			}
		}
		if rep.Manifest != "" {
			break
		}
	}
	if opts.Verify != nil && rep.Manifest != "" {
		if err := opts.Verify(ctx, rep.Manifest); err != nil {
			return rep, fmt.Errorf("verify after publish: %w", err)
		}
	}
	return rep, nil
}
