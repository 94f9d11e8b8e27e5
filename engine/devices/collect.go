package devices

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
)

// Limits of what Collect reads.
const (
	maxManifest = 32 << 20
	maxTracks   = 64 // init segments / media playlists read per presentation
)

// Collect examines a package and returns what it provides for the device rules: target is a
// folder (every top-level MPD, every HLS multivariant playlist, and the single-file MP4s in
// download/, or top-level MP4s when there is no manifest), a manifest (.mpd, .m3u8), a single
// MP4, or an http(s) URL of a manifest or MP4. It reads manifests, media playlists and init
// segments (for a single MP4, only up to its moov), never media segments. A part that cannot
// be read becomes a note of its presentation; an error means nothing could be examined.
// client is used for URLs (nil: http.DefaultClient). The returned Evidence has no policy:
// the caller sets Evidence.Policy.
func Collect(ctx context.Context, target string, client *http.Client) (*Evidence, error) {
	if client == nil {
		client = http.DefaultClient
	}
	c := &collector{client: client, root: target}
	ev := &Evidence{Source: target}
	entries, err := c.entries(target)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var p Presentation
		switch e.delivery {
		case DeliveryDASH:
			p = c.dash(ctx, e.loc)
		case DeliveryHLS:
			p = c.hls(ctx, e.loc)
		default:
			p = c.download(ctx, e.loc)
		}
		ev.Presentations = append(ev.Presentations, p)
	}
	return ev, nil
}

type entry struct {
	delivery Delivery
	loc      string
}

// collector reads a package's files from a folder or over HTTP.
type collector struct {
	client *http.Client
	root   string // the target, for naming files relative to it
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// deliveryOf classifies a file by its name.
func deliveryOf(loc string) Delivery {
	p := strings.ToLower(loc)
	if i := strings.IndexAny(p, "?#"); i >= 0 && isURL(loc) {
		p = p[:i]
	}
	switch {
	case strings.HasSuffix(p, ".mpd"):
		return DeliveryDASH
	case strings.HasSuffix(p, ".m3u8"):
		return DeliveryHLS
	}
	return DeliveryDownload
}

func (c *collector) entries(target string) ([]entry, error) {
	if isURL(target) {
		return []entry{{deliveryOf(target), target}}, nil
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("examine %s: %w", target, err)
	}
	if !st.IsDir() {
		c.root = filepath.Dir(target)
		return []entry{{deliveryOf(target), target}}, nil
	}
	var out []entry
	mpds, _ := filepath.Glob(filepath.Join(target, "*.mpd"))
	m3u8s, _ := filepath.Glob(filepath.Join(target, "*.m3u8"))
	sort.Strings(mpds)
	sort.Strings(m3u8s)
	for _, m := range mpds {
		out = append(out, entry{DeliveryDASH, m})
	}
	for _, m := range m3u8s {
		if isMultivariant(m) {
			out = append(out, entry{DeliveryHLS, m})
		}
	}
	mp4s, _ := filepath.Glob(filepath.Join(target, manifest.DirDownload, "*.mp4"))
	if len(out) == 0 && len(mp4s) == 0 {
		mp4s, _ = filepath.Glob(filepath.Join(target, "*.mp4"))
	}
	sort.Strings(mp4s)
	for _, m := range mp4s {
		out = append(out, entry{DeliveryDownload, m})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("examine %s: the folder has no MPD, HLS multivariant playlist or MP4", target)
	}
	return out, nil
}

// isMultivariant reports whether a local .m3u8 is a multivariant (master) playlist.
func isMultivariant(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	pl, err := manifest.ReadHLS(io.LimitReader(f, maxManifest))
	return err == nil && pl.Master
}

// name is loc relative to the package root, for findings.
func (c *collector) name(loc string) string {
	if isURL(loc) {
		u, err := url.Parse(loc)
		if err != nil {
			return loc
		}
		if r, err := url.Parse(c.root); err == nil && r.Host == u.Host {
			dir := path.Dir(r.Path)
			if !strings.HasSuffix(dir, "/") {
				dir += "/"
			}
			if rel, ok := strings.CutPrefix(u.Path, dir); ok {
				return rel
			}
		}
		return path.Base(u.Path)
	}
	if rel, err := filepath.Rel(c.root, loc); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(loc)
}

// resolve joins ref to the location of base (a file path or URL). A relative reference from a
// SAS-signed URL keeps the query, as segments in a private container need the same token.
func resolve(base, ref string) string {
	if isURL(ref) || filepath.IsAbs(ref) {
		return ref
	}
	if !isURL(base) {
		return filepath.Join(filepath.Dir(base), filepath.FromSlash(ref))
	}
	b, err1 := url.Parse(base)
	r, err2 := url.Parse(ref)
	if err1 != nil || err2 != nil {
		return ref
	}
	out := b.ResolveReference(r)
	if out.RawQuery == "" && b.RawQuery != "" && out.Host == b.Host {
		out.RawQuery = b.RawQuery
	}
	return out.String()
}

// open opens a local file or GETs a URL.
func (c *collector) open(ctx context.Context, loc string) (io.ReadCloser, error) {
	if !isURL(loc) {
		return os.Open(loc)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.Body, nil
}

func (c *collector) read(ctx context.Context, loc string) ([]byte, error) {
	rc, err := c.open(ctx, loc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxManifest))
}

// init reads the init segment (or single file) at loc.
func (c *collector) init(ctx context.Context, loc string) (*initInfo, error) {
	rc, err := c.open(ctx, loc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readInit(rc)
}

// addInit merges an init segment's tracks and pssh boxes into p.
func (c *collector) addInit(p *Presentation, info *initInfo, loc, track string) {
	for _, t := range info.tracks {
		if t.scheme != "" && !slices.Contains(p.Schemes, t.scheme) {
			p.Schemes = append(p.Schemes, t.scheme)
		}
		if t.protected && !t.kid.IsZero() && !slices.Contains(p.KIDs, t.kid) {
			p.KIDs = append(p.KIDs, t.kid)
		}
		p.PIFF = p.PIFF || t.piff
	}
	kind := media.Kind("")
	if len(info.tracks) == 1 {
		kind = info.tracks[0].kind
	}
	for _, ps := range info.pssh {
		place := PlaceInit
		if ps.piff {
			place, p.PIFF = PlacePIFF, true
		}
		if s, ok := psshSignal(ps.raw, place, c.name(loc), track, kind); ok {
			p.Signals = append(p.Signals, s)
		}
	}
}

// psshSignal describes a pssh box; false for systems Satchel does not know.
func psshSignal(raw []byte, place Place, loc, track string, kind media.Kind) (Signal, bool) {
	b, err := drm.DecodePSSHBytes(raw)
	if err != nil {
		return Signal{}, false
	}
	sys, ok := drm.SystemForID(b.SystemID)
	if !ok {
		return Signal{}, false
	}
	s := Signal{System: sys, Place: place, Location: loc, Track: track, Kind: kind, Size: len(raw), InitData: raw}
	if info, err := drm.DecodePSSH(b); err == nil {
		s.KIDs = info.KIDs
		if info.Widevine != nil {
			s.ContentID = len(info.Widevine.ContentID) > 0
		}
		if h := info.PlayReady; h != nil {
			s.PlayReadyVersion, s.PlayReadyAlgID, s.Size = h.Version, h.AlgID, len(b.Data)
		}
	}
	return s, true
}

// dash examines an MPD and the init segments of its representations.
func (c *collector) dash(ctx context.Context, loc string) Presentation {
	p := Presentation{Delivery: DeliveryDASH, Location: c.name(loc)}
	b, err := c.read(ctx, loc)
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s could not be read: %v", p.Location, err))
		return p
	}
	if mpdType(b) == "dynamic" {
		p.Dynamic = true
		p.Notes = append(p.Notes, p.Location+" is a dynamic (live) MPD: its tracks were not examined")
		return p
	}
	info, err := manifest.ReadMPD(bytes.NewReader(b))
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: %v", p.Location, err))
		return p
	}
	for _, as := range info.AdaptationSets {
		switch adaptationKind(as) {
		case media.Audio:
			p.AudioTracks++
		case media.Text:
			p.TextTracks++
		}
	}
	read := 0
	for _, rep := range info.Representations {
		kind := media.Kind(rep.ContentType)
		where := fmt.Sprintf("%s, Representation %s", p.Location, rep.ID)
		for _, pi := range rep.Protection {
			mpdProtection(&p, pi, where, rep.ID, kind)
		}
		if rep.InitURL == "" || read >= maxTracks {
			continue
		}
		read++
		il := resolve(loc, rep.InitURL)
		ii, err := c.init(ctx, il)
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %v", c.name(il), err))
			continue
		}
		c.addInit(&p, ii, il, rep.ID)
	}
	if len(info.Representations) > maxTracks {
		p.Notes = append(p.Notes, fmt.Sprintf("only the first %d of %d representations were examined",
			maxTracks, len(info.Representations)))
	}
	return p
}

// mpdType returns the MPD@type attribute ("static" when absent), reading only the root.
func mpdType(b []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if el, ok := tok.(xml.StartElement); ok {
			for _, a := range el.Attr {
				if a.Name.Local == "type" {
					return strings.TrimSpace(a.Value)
				}
			}
			return "static"
		}
	}
}

func adaptationKind(as manifest.AdaptationSetInfo) media.Kind {
	ct, mt := strings.ToLower(as.ContentType), strings.ToLower(as.MimeType)
	switch {
	case ct == "audio" || strings.HasPrefix(mt, "audio/"):
		return media.Audio
	case ct == "text" || strings.HasPrefix(mt, "text/") || strings.Contains(mt, "ttml"):
		return media.Text
	}
	return media.Video
}

// mpdProtection records one ContentProtection element of a representation (its own or its
// AdaptationSet's).
func mpdProtection(p *Presentation, pi manifest.ProtectionInfo, where, track string, kind media.Kind) {
	scheme := strings.TrimPrefix(pi.SchemeIDURI, "urn:uuid:")
	if pi.SchemeIDURI == "urn:mpeg:dash:mp4protection:2011" {
		if sc, err := drm.ParseScheme(pi.Value); err == nil && !slices.Contains(p.Schemes, sc) {
			p.Schemes = append(p.Schemes, sc)
		}
		if k, ok := pi.KID(); ok && !slices.Contains(p.KIDs, k) {
			p.KIDs = append(p.KIDs, k)
		}
		return
	}
	sys, ok := systemForUUID(scheme)
	if !ok {
		return
	}
	base := Signal{System: sys, Place: PlaceMPDDescriptor, Location: where, Track: track, Kind: kind}
	if len(pi.PSSH) > 0 {
		if s, ok := psshSignal(pi.PSSH, PlaceMPD, where+" cenc:pssh", track, kind); ok {
			addSignal(p, s)
			return
		}
	}
	if len(pi.PRO) > 0 && sys == drm.PlayReady {
		s := base
		s.Place, s.Location, s.Size, s.InitData = PlaceMPD, where+" mspr:pro", len(pi.PRO), pi.PRO
		if h, err := drm.ParsePlayReadyObject(pi.PRO); err == nil {
			s.KIDs, s.PlayReadyVersion, s.PlayReadyAlgID = h.KIDs, h.Version, h.AlgID
		}
		addSignal(p, s)
		return
	}
	addSignal(p, base)
}

// addSignal appends s unless an identical signal (same system, place, track and data) exists.
func addSignal(p *Presentation, s Signal) {
	for _, o := range p.Signals {
		if o.System == s.System && o.Place == s.Place && o.Track == s.Track && bytes.Equal(o.InitData, s.InitData) {
			return
		}
	}
	p.Signals = append(p.Signals, s)
}

// systemForUUID maps a ContentProtection scheme UUID to a system; the DASH-IF ClearKey UUID
// maps to ClearKey too.
func systemForUUID(id string) (drm.System, bool) {
	id = strings.ToLower(id)
	if id == drm.ClearKeyDASHSchemeID {
		return drm.ClearKey, true
	}
	for _, s := range drm.AllSystems {
		if k, err := drm.ParseKID(id); err == nil && bytes.Equal(k[:], s.SystemID()) {
			return s, true
		}
	}
	return "", false
}

// decodeDataURI decodes an RFC 2397 data: URI (base64 or percent-encoded).
func decodeDataURI(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return nil, errors.New("not a data: URI")
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, errors.New("data: URI without a comma")
	}
	if strings.HasSuffix(strings.ToLower(meta), ";base64") {
		return base64.StdEncoding.DecodeString(data)
	}
	v, err := url.PathUnescape(data)
	return []byte(v), err
}
