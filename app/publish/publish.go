// Package publish uploads a packaged folder to Azure Blob Storage (azblob) or copies it to a
// local folder: correct content types and cache headers, Content-MD5 set and checked,
// unchanged files skipped, manifests last (a half-published package is never advertised), an
// optional CORS rule for browser players, and read-only SAS URLs for downloads.
package publish

import (
	"context"
	"crypto/md5"
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

	"golang.org/x/sync/errgroup"

	"satchel/engine/manifest"
	"satchel/internal/field"
)

// TargetKind is the kind of destination.
type TargetKind string

// The destination kinds.
const (
	TargetAzure TargetKind = "azure" // an Azure Blob Storage container and prefix
	TargetDir   TargetKind = "dir"   // a local folder (a web server's document root, a share)
)

// Target is where a package goes: an Azure container and prefix, or a local folder.
type Target struct {
	Kind      TargetKind
	Container string
	Prefix    string
	Dir       string
}

// String returns the target as ParseTarget reads it: azure://CONTAINER/PREFIX or the folder.
func (t Target) String() string {
	if t.Kind == TargetDir {
		return t.Dir
	}
	return "azure://" + path.Join(t.Container, t.Prefix)
}

// ParseTarget parses azure://CONTAINER/PREFIX or a folder path.
func ParseTarget(s string) (Target, error) {
	if rest, ok := strings.CutPrefix(s, "azure://"); ok {
		c, p, _ := strings.Cut(rest, "/")
		if !validContainer(c) {
			return Target{}, field.Errorf("target", s,
				"container %q is not a valid Azure container name (3–63 lowercase letters, digits and hyphens)", c)
		}
		return Target{Kind: TargetAzure, Container: c, Prefix: strings.Trim(p, "/")}, nil
	}
	if strings.Contains(s, "://") {
		return Target{}, field.Errorf("target", s, "not azure://CONTAINER/PREFIX or a folder path")
	}
	if s == "" {
		return Target{}, field.Errorf("target", nil, "no destination given")
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return Target{}, err
	}
	return Target{Kind: TargetDir, Dir: abs}, nil
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
	case ".ismc":
		return "application/vnd.ms-sstr+xml" // Smooth Streaming client manifest
	case "":
		// Smooth fragments: QualityLevels(<bitrate>)/Fragments(<stream>=<time>), no extension.
		if base := path.Base(rel); strings.HasPrefix(base, "Fragments(") {
			if strings.HasPrefix(base, "Fragments(audio") {
				return "audio/mp4"
			}
			return "video/mp4"
		}
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
	return ext == ".mpd" || ext == ".m3u8" || ext == ".ismc"
}

// scan lists the package files with their MD5s.
func scan(ctx context.Context, src string, includeKeys bool) (files, withheld []file, err error) {
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
		if manifest.IsPrivate(rel) && !includeKeys {
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

// Validate checks the options without changing them; problems are *field.Error values
// naming src_dir, target, concurrency or block_size.
func (o *Options) Validate() error {
	if o.SrcDir == "" {
		return field.Errorf("src_dir", nil, "no package folder given")
	}
	if st, err := os.Stat(o.SrcDir); err != nil || !st.IsDir() {
		return field.Errorf("src_dir", o.SrcDir, "not a folder")
	}
	if o.Target.Kind != TargetAzure && o.Target.Kind != TargetDir {
		return field.Errorf("target", nil, "no destination given")
	}
	if o.Concurrency < 0 || o.Concurrency > MaxConcurrency {
		return field.Errorf("concurrency", o.Concurrency, "must be 0 (default %d) to %d", DefaultConcurrency, MaxConcurrency)
	}
	if o.BlockSize != 0 && (o.BlockSize < MinBlockSize || o.BlockSize > MaxBlockSize) {
		return field.Errorf("block_size", o.BlockSize, "must be %d to %d bytes", MinBlockSize, MaxBlockSize)
	}
	return nil
}

// Limits and defaults of the upload settings.
const (
	DefaultConcurrency = 8
	MaxConcurrency     = 64
	MinBlockSize       = 64 << 10
	MaxBlockSize       = 100 << 20
)

// IncompleteError says a publish run stopped part way. Files already uploaded stay; a new run
// skips them and manifests are only uploaded once every segment is in place, so players
// never see a half-published package.
type IncompleteError struct {
	Target string
	Err    error
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("publish to %s stopped: %v", e.Target, e.Err)
}

// Unwrap returns the cause.
func (e *IncompleteError) Unwrap() error { return e.Err }

// Publish publishes opts.SrcDir to opts.Target.
func Publish(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
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
	case TargetDir:
		be = &dirBackend{dir: opts.Target.Dir}
	case TargetAzure:
		if be, err = newAzure(ctx, opts); err != nil {
			return nil, err
		}
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
		g, ctx := errgroup.WithContext(ctx)
		g.SetLimit(opts.Concurrency)
		for _, f := range batch {
			g.Go(func() error {
				if err := ctx.Err(); err != nil {
					return err
				}
				var last int64
				err := be.put(ctx, f, &opts, func(n int64) {
					if n > last {
						done.Add(n - last)
						last = n
					}
				})
				if err != nil {
					return fmt.Errorf("%s: %w", f.rel, err)
				}
				done.Add(f.size - last)
				nfiles.Add(1)
				mu.Lock()
				rep.Uploaded = append(rep.Uploaded, f.rel)
				rep.Order = append(rep.Order, f.rel)
				rep.Bytes += f.size
				mu.Unlock()
				report(f.rel)
				return nil
			})
		}
		return g.Wait()
	}
	// Media first; manifests only once every segment is in place.
	if err := upload(todo); err != nil {
		return rep, &IncompleteError{Target: rep.Target, Err: err}
	}
	if err := upload(manifests); err != nil {
		return rep, &IncompleteError{Target: rep.Target, Err: err}
	}
	sort.Strings(rep.Uploaded)
	rep.Duration = time.Since(start)
	for _, m := range []string{manifest.FileMPD, manifest.FileHLSMaster} {
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
