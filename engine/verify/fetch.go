package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Limits bound what one verification may read, so that a hostile or broken manifest cannot
// exhaust memory, disk or time. A zero field takes its default. Hitting a limit is a finding
// (category "limits") and what was left is listed as not checked; it is never a crash.
type Limits struct {
	// MaxManifestBytes bounds one MPD or playlist (default 8 MiB).
	MaxManifestBytes int64
	// MaxSegments bounds the media segments listed by all manifests together (default 200,000).
	MaxSegments int
	// MaxPlaylists bounds the HLS media playlists read per multivariant playlist (default 200).
	MaxPlaylists int
	// MaxResponseBytes bounds one init segment or media segment, which is held in memory while
	// it is checked (default 64 MiB). Larger responses are not read past the limit.
	MaxResponseBytes int64
	// MaxFileBytes bounds one single-file MP4 fetched over HTTP; it is streamed to a temporary
	// file, never held in memory (default 16 GiB).
	MaxFileBytes int64
	// MaxFetches bounds the HTTP requests of one verification (default 250,000).
	MaxFetches int
	// MaxTime bounds the whole verification (default 2 hours).
	MaxTime time.Duration
}

// DefaultLimits are generous for any real package (a 3-hour title in 2 s segments with 10
// renditions in two schemes stays well inside them).
var DefaultLimits = Limits{
	MaxManifestBytes: 8 << 20,
	MaxSegments:      200_000,
	MaxPlaylists:     200,
	MaxResponseBytes: 64 << 20,
	MaxFileBytes:     16 << 30,
	MaxFetches:       250_000,
	MaxTime:          2 * time.Hour,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxManifestBytes > 0 {
		d.MaxManifestBytes = l.MaxManifestBytes
	}
	if l.MaxSegments > 0 {
		d.MaxSegments = l.MaxSegments
	}
	if l.MaxPlaylists > 0 {
		d.MaxPlaylists = l.MaxPlaylists
	}
	if l.MaxResponseBytes > 0 {
		d.MaxResponseBytes = l.MaxResponseBytes
	}
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxFetches > 0 {
		d.MaxFetches = l.MaxFetches
	}
	if l.MaxTime > 0 {
		d.MaxTime = l.MaxTime
	}
	return d
}

// LimitError says that a limit stopped the verification of something.
type LimitError struct {
	What  string // "segments", "fetches", "response size", "manifest size", "playlists", "time"
	Limit int64
	Loc   string // the resource, when one is concerned
}

func (e *LimitError) Error() string {
	if e.Loc != "" {
		return fmt.Sprintf("%s: over the %s limit of %d", e.Loc, e.What, e.Limit)
	}
	return fmt.Sprintf("over the %s limit of %d", e.What, e.Limit)
}

// RefusedError says that a reference was not followed: it points outside the package (a
// local file from a remote manifest, a path outside the folder) or to a host not allowed.
type RefusedError struct {
	Ref    string
	Host   string // the host not allowed, when that is the reason
	Reason string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("%s not fetched: %s", e.Ref, e.Reason) }

// fetcher reads the package: local files under one root folder, or URLs from the verified
// URL's host and the allowed hosts. It holds no context: every call takes one.
type fetcher struct {
	client  *http.Client
	origin  string // Origin header for CORS checks
	remote  bool   // the input is a URL
	home    string // host:port of the input URL
	allowed map[string]bool
	root    string // local input: references stay inside this folder
	limits  Limits
	fetches int
	hosts   map[string]*HostUse
	order   []string
	bytes   int64
}

func newFetcher(in Input, limits Limits) (*fetcher, error) {
	f := &fetcher{origin: in.Origin, limits: limits, allowed: map[string]bool{}, hosts: map[string]*HostUse{}}
	for _, h := range in.AllowHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			f.allowed[h] = true
		}
	}
	if isURL(in.Path) {
		u, err := url.Parse(in.Path)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("verify %s: not a valid URL", in.Path)
		}
		f.remote, f.home = true, hostPort(u)
	} else {
		abs, err := filepath.Abs(in.Path)
		if err != nil {
			return nil, err
		}
		f.root = abs
		if st, err := os.Stat(abs); err == nil && !st.IsDir() {
			f.root = filepath.Dir(abs)
		}
	}
	base := in.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 5 * time.Minute}
	}
	c := *base
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if err := f.allow(req.URL); err != nil {
			return err
		}
		return nil
	}
	f.client = &c
	return f, nil
}

func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// hostPort is the lowercase host with its port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// allow checks that u may be fetched: http(s), and the input's host or an allowed host
// ("host" allows every port of it, "host:port" that port).
func (f *fetcher) allow(u *url.URL) error {
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return &RefusedError{Ref: u.String(), Reason: "only http and https are fetched"}
	}
	hp := hostPort(u)
	use := f.hostUse(hp)
	if hp == f.home || f.allowed[hp] || f.allowed[strings.ToLower(u.Hostname())] || f.allowed[strings.ToLower(u.Host)] {
		use.Allowed = true
		return nil
	}
	use.Refused++
	return &RefusedError{Ref: u.String(), Host: hp, Reason: "host " + hp + " is not the manifest's host and was not allowed"}
}

func (f *fetcher) hostUse(hp string) *HostUse {
	h, ok := f.hosts[hp]
	if !ok {
		h = &HostUse{Host: hp, Origin: hp == f.home}
		f.hosts[hp] = h
		f.order = append(f.order, hp)
	}
	return h
}

// hostReport lists the hosts met, in order.
func (f *fetcher) hostReport() []HostUse {
	var out []HostUse
	for _, h := range f.order {
		out = append(out, *f.hosts[h])
	}
	return out
}

// resolve joins ref to the location of base (a path or URL) and checks that the result stays
// inside the package: a remote manifest's references are URLs resolved against it (an
// absolute path is host-relative, never a local file); a local manifest's references stay
// inside the root folder.
func (f *fetcher) resolve(base, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	r, err := url.Parse(ref)
	if err != nil {
		return "", &RefusedError{Ref: ref, Reason: "not a valid reference"}
	}
	if r.Scheme != "" && !isURL(ref) {
		return "", &RefusedError{Ref: ref, Reason: "only http and https references are followed"}
	}
	if isURL(base) {
		b, err := url.Parse(base)
		if err != nil {
			return "", &RefusedError{Ref: ref, Reason: "the base URL is not valid"}
		}
		out := b.ResolveReference(r)
		// A SAS-signed manifest URL: segments in the same private container need the same
		// token, which relative references do not carry.
		if out.RawQuery == "" && b.RawQuery != "" && out.Host == b.Host {
			out.RawQuery = b.RawQuery
		}
		return out.String(), nil
	}
	if isURL(ref) {
		return ref, nil // checked against the allowed hosts when fetched
	}
	p := filepath.FromSlash(r.Path)
	if strings.HasPrefix(r.Path, "/") {
		p = filepath.Join(f.root, p) // root-relative, as a web server would serve it
	} else {
		p = filepath.Join(filepath.Dir(base), p)
	}
	if !f.inside(p) {
		return "", &RefusedError{Ref: ref, Reason: "it points outside the package folder"}
	}
	return p, nil
}

func (f *fetcher) inside(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(f.root, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// request opens loc over HTTP after the host, fetch-count and context checks.
func (f *fetcher) request(ctx context.Context, loc string, header map[string]string) (*http.Response, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return nil, &RefusedError{Ref: loc, Reason: "not a valid URL"}
	}
	if err := f.allow(u); err != nil {
		return nil, err
	}
	if f.fetches >= f.limits.MaxFetches {
		return nil, &LimitError{What: "fetches", Limit: int64(f.limits.MaxFetches)}
	}
	f.fetches++
	f.hostUse(hostPort(u)).Fetches++
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", displayName(loc), err)
	}
	return resp, nil
}

// get returns the bytes at loc, at most max of them; more is a *LimitError ("response size"),
// found without reading past max.
func (f *fetcher) get(ctx context.Context, loc string, max int64) ([]byte, error) {
	return f.getInto(ctx, loc, max, nil)
}

// getInto is get reading into buf (grown when too small), so that a caller streaming one
// segment after another reuses one buffer.
func (f *fetcher) getInto(ctx context.Context, loc string, max int64, buf []byte) ([]byte, error) {
	if !isURL(loc) {
		if f.remote {
			return nil, &RefusedError{Ref: loc, Reason: "a remote manifest never reads local files"}
		}
		if !f.inside(loc) {
			return nil, &RefusedError{Ref: loc, Reason: "it points outside the package folder"}
		}
		fh, err := os.Open(loc)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", loc, err)
		}
		defer fh.Close()
		var size int64 = -1
		if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		return readLimited(fh, size, max, loc, buf)
	}
	resp, err := f.request(ctx, loc, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: HTTP %d", displayName(loc), resp.StatusCode)
	}
	if resp.ContentLength > max {
		return nil, &LimitError{What: "response size", Limit: max, Loc: displayName(loc)}
	}
	return readLimited(resp.Body, resp.ContentLength, max, loc, buf)
}

// readLimited reads r (size bytes when known, else -1) into buf, at most max bytes.
func readLimited(r io.Reader, size, max int64, loc string, buf []byte) ([]byte, error) {
	if size > max {
		return nil, &LimitError{What: "response size", Limit: max, Loc: displayName(loc)}
	}
	want := size
	if want < 0 {
		want = 1 << 20
	}
	if int64(cap(buf)) < want+1 {
		buf = make([]byte, 0, want+1)
	}
	b := bytes.NewBuffer(buf[:0])
	if _, err := b.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", displayName(loc), err)
	}
	if int64(b.Len()) > max {
		return nil, &LimitError{What: "response size", Limit: max, Loc: displayName(loc)}
	}
	return b.Bytes(), nil
}

// open returns a seekable file for loc: the local file itself, or the URL streamed into a
// temporary file (bounded by MaxFileBytes) that close removes.
func (f *fetcher) open(ctx context.Context, loc string) (*os.File, func(), error) {
	if !isURL(loc) {
		if f.remote {
			return nil, nil, &RefusedError{Ref: loc, Reason: "a remote manifest never reads local files"}
		}
		if !f.inside(loc) {
			return nil, nil, &RefusedError{Ref: loc, Reason: "it points outside the package folder"}
		}
		fh, err := os.Open(loc)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", loc, err)
		}
		return fh, func() { fh.Close() }, nil
	}
	resp, err := f.request(ctx, loc, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("fetch %s: HTTP %d", displayName(loc), resp.StatusCode)
	}
	max := f.limits.MaxFileBytes
	if resp.ContentLength > max {
		return nil, nil, &LimitError{What: "file size", Limit: max, Loc: displayName(loc)}
	}
	tmp, err := os.CreateTemp("", "satchel-verify-*.mp4")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, max+1))
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("fetch %s: %w", displayName(loc), err)
	}
	if n > max {
		cleanup()
		return nil, nil, &LimitError{What: "file size", Limit: max, Loc: displayName(loc)}
	}
	return tmp, cleanup, nil
}

func displayName(loc string) string {
	if isURL(loc) {
		if u, err := url.Parse(loc); err == nil {
			return path.Base(u.Path)
		}
	}
	return filepath.Base(loc)
}

// rel names loc for findings: relative to the package root when local, the URL path when
// remote (never a SAS token).
func (f *fetcher) rel(loc string) string {
	if isURL(loc) {
		if u, err := url.Parse(loc); err == nil {
			if hostPort(u) == f.home {
				return strings.TrimPrefix(u.Path, "/")
			}
			return u.Host + u.Path
		}
		return loc
	}
	if r, err := filepath.Rel(f.root, loc); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return loc
}

// getRange returns the n bytes at off of loc and the size of the whole file (-1 when the
// server does not say). A range that runs past the end returns what there is; a local file is
// read with ReadAt, a URL with a Range request (a server that ignores Range is read up to the
// end of the range, bounded by MaxResponseBytes).
func (f *fetcher) getRange(ctx context.Context, loc string, off, n int64) ([]byte, int64, error) {
	if n > f.limits.MaxResponseBytes || off < 0 || n < 0 {
		return nil, -1, &LimitError{What: "byte range", Limit: f.limits.MaxResponseBytes, Loc: displayName(loc)}
	}
	if !isURL(loc) {
		fh, _, err := f.open(ctx, loc)
		if err != nil {
			return nil, -1, err
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil {
			return nil, -1, fmt.Errorf("read %s: %w", loc, err)
		}
		size := st.Size()
		if off >= size {
			return nil, size, nil
		}
		b := make([]byte, min(n, size-off))
		if _, err := fh.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, size, fmt.Errorf("read %s: %w", loc, err)
		}
		return b, size, nil
	}
	resp, err := f.request(ctx, loc, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, off+n-1)})
	if err != nil {
		return nil, -1, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		size := int64(-1)
		if _, total, ok := strings.Cut(resp.Header.Get("Content-Range"), "/"); ok {
			if v, err := strconv.ParseInt(total, 10, 64); err == nil {
				size = v
			}
		}
		b, err := readLimited(resp.Body, -1, n, loc, nil)
		return b, size, err
	case http.StatusRequestedRangeNotSatisfiable:
		return nil, off, nil
	case http.StatusOK:
		b, err := readLimited(io.LimitReader(resp.Body, off+n), -1, f.limits.MaxResponseBytes, loc, nil)
		if err != nil {
			return nil, -1, err
		}
		size := resp.ContentLength
		if int64(len(b)) <= off {
			return nil, max(size, int64(len(b))), nil
		}
		return b[off:], size, nil
	}
	return nil, -1, fmt.Errorf("fetch %s: HTTP %d", displayName(loc), resp.StatusCode)
}
