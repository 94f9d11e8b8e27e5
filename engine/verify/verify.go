package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
)

// Input describes what to check.
type Input struct {
	// Path is a file, a folder, an .mpd/.m3u8, or an http(s) URL of one of these.
	Path string
	// Keys are the content keys known to the caller (CPIX, --key, the workspace). With no
	// LicenseURL they are served by a private in-process license server.
	Keys []drm.ContentKey
	// LicenseURL is a Satchel license server base URL to use instead.
	LicenseURL string
	Token      string
	// Policy is linted for offline use and enforced by the private license server.
	Policy *policy.Policy
	// SourceFiles are the clear sources, for a bit-exact comparison of decrypted samples.
	SourceFiles []string
	HTTPClient  *http.Client
	// Origin is sent for CORS checks on URLs (default https://player.example.com).
	Origin string
}

type verifier struct {
	in      Input
	rep     *Report
	fetch   *fetcher
	tracks  []*checkedTrack
	systems map[drm.System][]byte // init data per system found
	fpURIs  []string
	kids    map[drm.KID]bool
	keys    []drm.ContentKey
	sources []*sourceTrack
}

// Verify runs every check and returns the report. An error means the input could not be
// read at all (missing file, unreachable URL); problems with the content are findings.
func Verify(ctx context.Context, in Input) (*Report, error) {
	start := time.Now()
	rep := &Report{Target: in.Path, Started: start}
	if in.HTTPClient == nil {
		in.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if in.Origin == "" {
		in.Origin = "https://player.example.com"
	}
	v := &verifier{in: in, rep: rep, fetch: &fetcher{ctx: ctx, client: in.HTTPClient, origin: in.Origin},
		systems: map[drm.System][]byte{}, kids: map[drm.KID]bool{}, keys: in.Keys}
	refs, err := v.plan(in.Path)
	if err != nil {
		return nil, err
	}
	if err := v.loadSources(); err != nil {
		return nil, err
	}
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v.inspectTrack(ref)
	}
	v.lintPolicy()
	v.licenseRoundTrip(ctx)
	for _, t := range v.tracks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v.decryptTrack(t)
	}
	rep.Tracks = len(v.tracks)
	rep.Duration = time.Since(start)
	return rep, nil
}

// checkedTrack is a track whose init was read.
type checkedTrack struct {
	ref       *trackRef
	subject   string
	init      *mp4.InitSegment
	trackID   uint32
	kind      string
	codec     string
	nalLen    int
	kid       drm.KID
	scheme    string
	encrypted bool
	file      *mp4.File // single files
	raw       []byte    // single file bytes when fetched over HTTP
	local     *os.File  // single local file
	ppsIDs    map[uint64]bool
}

func (v *verifier) inspectTrack(ref *trackRef) {
	var mf *mp4.File
	var err error
	var local *os.File
	var raw []byte
	if ref.single && !isURL(ref.init) {
		local, err = os.Open(ref.init)
		if err == nil {
			mf, err = decodeSafe(local, true)
		}
	} else {
		v.checkHTTP(ref.init, "video/mp4")
		raw, err = v.fetch.get(ref.init)
		if err == nil {
			mf, err = decodeSafe(bytes.NewReader(raw), false)
		}
	}
	if err != nil {
		v.rep.fail(CatStructure, ref.subject, "the init segment / file does not parse: "+err.Error(), "re-package or re-download it; a truncated download is the usual cause")
		return
	}
	init := mf.Init
	if init == nil && mf.Moov != nil {
		init = &mp4.InitSegment{Moov: mf.Moov, Ftyp: mf.Ftyp}
	}
	if init == nil || init.Moov == nil {
		v.rep.fail(CatStructure, ref.subject, "no moov box: this is not an init segment or a complete MP4", "point the checker at the init segment, the manifest or the folder")
		return
	}
	v.rep.pass(CatStructure, ref.subject, "boxes parse (%d tracks)", len(init.Moov.Traks))
	for _, trak := range init.Moov.Traks {
		t := &checkedTrack{ref: ref, init: init, trackID: trak.Tkhd.TrackID, file: mf, raw: raw, local: local}
		if !v.describe(t, trak) {
			continue
		}
		v.tracks = append(v.tracks, t)
		v.checkSignalling(t, init)
	}
}

func decodeSafe(r io.ReadSeeker, lazy bool) (mf *mp4.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			mf, err = nil, fmt.Errorf("malformed MP4 (%v)", p)
		}
	}()
	if lazy {
		return mp4.DecodeFile(r, mp4.WithDecodeMode(mp4.DecModeLazyMdat))
	}
	return mp4.DecodeFile(r)
}

// describe fills kind/codec/protection; false for tracks that are not audio or video.
func (v *verifier) describe(t *checkedTrack, trak *mp4.TrakBox) bool {
	if trak.Mdia == nil || trak.Mdia.Hdlr == nil || trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil || len(trak.Mdia.Minf.Stbl.Stsd.Children) == 0 {
		v.rep.fail(CatStructure, t.ref.subject, fmt.Sprintf("track %d has no sample description", trak.Tkhd.TrackID), "re-package the content")
		return false
	}
	switch trak.Mdia.Hdlr.HandlerType {
	case "vide":
		t.kind = "video"
	case "soun":
		t.kind = "audio"
	default:
		return false
	}
	if len(t.init.Moov.Traks) > 1 {
		t.subject = fmt.Sprintf("%s track %d (%s)", t.ref.subject, t.trackID, t.kind)
	} else {
		t.subject = t.ref.subject
	}
	var sinf *mp4.SinfBox
	switch se := trak.Mdia.Minf.Stbl.Stsd.Children[0].(type) {
	case *mp4.VisualSampleEntryBox:
		sinf = se.Sinf
		t.codec = se.Type()
		t.nalLen = 4
		t.ppsIDs = map[uint64]bool{}
		if se.HvcC != nil {
			t.nalLen = int(se.HvcC.LengthSizeMinusOne) + 1
			for _, pps := range se.HvcC.GetNalusForType(hevc.NALU_PPS) {
				if id, ok := firstUE(pps, 2); ok {
					t.ppsIDs[id] = true
				}
			}
		}
		if se.AvcC != nil {
			for _, pps := range se.AvcC.PPSnalus {
				if id, ok := firstUE(pps, 1); ok {
					t.ppsIDs[id] = true
				}
			}
		}
	case *mp4.AudioSampleEntryBox:
		sinf = se.Sinf
		t.codec = se.Type()
	}
	if sinf == nil {
		v.rep.warn(CatEncryption, t.subject, "the track is not encrypted (clear "+t.codec+")", "package it with Satchel to protect it; clear tracks can be copied")
		return true
	}
	t.encrypted = true
	if sinf.Frma != nil {
		t.codec = sinf.Frma.DataFormat
	}
	if sinf.Schm == nil || sinf.Schi == nil || sinf.Schi.Tenc == nil {
		v.rep.fail(CatEncryption, t.subject, "protected sample entry without schm/tenc", "re-package: the track cannot be decrypted without them")
		t.encrypted = false
		return true
	}
	t.scheme = sinf.Schm.SchemeType
	tenc := sinf.Schi.Tenc
	t.kid = drm.KID(tenc.DefaultKID)
	v.kids[t.kid] = true
	switch t.scheme {
	case "cenc":
		if tenc.DefaultPerSampleIVSize != 8 && tenc.DefaultPerSampleIVSize != 16 {
			v.rep.fail(CatEncryption, t.subject, fmt.Sprintf("cenc with a per-sample IV size of %d", tenc.DefaultPerSampleIVSize), "cenc needs 8- or 16-byte per-sample IVs")
		} else {
			v.rep.pass(CatEncryption, t.subject, "scheme cenc (AES-CTR), %s %s, default KID %s, %d-byte IVs", t.kind, t.codec, t.kid, tenc.DefaultPerSampleIVSize)
		}
	case "cbcs":
		okIV := tenc.DefaultPerSampleIVSize == 0 && len(tenc.DefaultConstantIV) == 16 || tenc.DefaultPerSampleIVSize == 16
		pattern := fmt.Sprintf("%d:%d", tenc.DefaultCryptByteBlock, tenc.DefaultSkipByteBlock)
		switch {
		case !okIV:
			v.rep.fail(CatEncryption, t.subject, "cbcs without a 16-byte constant IV", "cbcs needs a 16-byte constant IV in tenc (FairPlay requires it)")
		case t.kind == "video" && pattern != "1:9":
			v.rep.warn(CatEncryption, t.subject, "cbcs video pattern is "+pattern+", not the usual 1:9", "use the 1:9 pattern for video (Apple and CMAF)")
		default:
			v.rep.pass(CatEncryption, t.subject, "scheme cbcs (AES-CBC pattern %s), %s %s, default KID %s, constant IV", pattern, t.kind, t.codec, t.kid)
		}
	default:
		v.rep.fail(CatEncryption, t.subject, "scheme "+t.scheme+" is not cenc or cbcs", "re-package with cenc (DASH) or cbcs (HLS/FairPlay)")
		t.encrypted = false
	}
	return true
}

// checkSignalling decodes every PSSH (init and manifest) and checks KIDs agree with tenc, the
// MPD default_KID and the HLS keys.
func (v *verifier) checkSignalling(t *checkedTrack, init *mp4.InitSegment) {
	if !t.encrypted {
		return
	}
	var boxes []*mp4.PsshBox
	boxes = append(boxes, init.Moov.Psshs...)
	for _, raw := range t.ref.manifestPSSH {
		b, err := drm.DecodePSSHBytes(raw)
		if err != nil {
			v.rep.fail(CatDRM, t.subject, "a cenc:pssh in the MPD does not decode: "+err.Error(), "re-package the manifest")
			continue
		}
		boxes = append(boxes, b)
	}
	for _, b := range boxes {
		info, err := drm.DecodePSSH(b)
		if err != nil {
			v.rep.fail(CatDRM, t.subject, "a pssh box does not decode: "+err.Error(), "re-package; players cannot request a license from it")
			continue
		}
		if info.System == "" {
			v.rep.warn(CatDRM, t.subject, "pssh for an unknown system "+info.SystemID, "")
			continue
		}
		raw, _ := drm.BoxBytes(b)
		if _, ok := v.systems[info.System]; !ok {
			v.systems[info.System] = raw
		}
		if !containsKID(info.KIDs, t.kid) && len(info.KIDs) > 0 {
			v.rep.fail(CatDRM, t.subject, fmt.Sprintf("%s pssh lists KIDs %v but the track's tenc KID is %s", info.System.Title(), info.KIDs, t.kid), "re-package so the pssh and tenc name the same key")
			continue
		}
		if info.PlayReady != nil {
			if k, ok := drm.KeyByKID(v.keys, t.kid); ok {
				if err := info.PlayReady.CheckKey(k); err != nil {
					v.rep.fail(CatDRM, t.subject, err.Error(), "use the key the content was packaged with (KID "+t.kid.String()+")")
					continue
				}
			}
		}
		v.rep.pass(CatDRM, t.subject, "%s pssh v%d decodes and lists KID %s", info.System.Title(), info.Version, t.kid)
	}
	for _, raw := range t.ref.manifestPRO {
		h, err := drm.ParsePlayReadyObject(raw)
		switch {
		case err != nil:
			v.rep.fail(CatDRM, t.subject, "mspr:pro does not decode: "+err.Error(), "re-package the manifest")
		case !containsKID(h.KIDs, t.kid):
			v.rep.fail(CatDRM, t.subject, fmt.Sprintf("mspr:pro lists KIDs %v, not the tenc KID %s", h.KIDs, t.kid), "re-package so the PRO and tenc agree")
		default:
			v.rep.pass(CatDRM, t.subject, "mspr:pro WRMHEADER %s lists KID %s", h.Version, t.kid)
		}
	}
	for _, s := range t.ref.manifestKIDs {
		k, err := drm.ParseKID(s)
		if err != nil || k != t.kid {
			v.rep.fail(CatDRM, t.subject, fmt.Sprintf("MPD cenc:default_KID %s differs from the track's tenc KID %s", s, t.kid), "re-package: players request the wrong key otherwise")
		} else {
			v.rep.pass(CatDRM, t.subject, "MPD cenc:default_KID matches tenc (%s)", t.kid)
		}
	}
	if _, ok := v.systems[drm.ClearKey]; !ok && t.ref.clearKeyLAURL != "" {
		v.systems[drm.ClearKey] = nil // signalled by the DASH ClearKey descriptor
	}
	for _, k := range t.ref.hlsKeys {
		switch k.KeyFormat {
		case drm.KeyFormatFairPlay:
			kid, err := drm.ParseFairPlaySKD(k.URI)
			if err != nil {
				v.rep.warn(CatDRM, t.subject, "FairPlay key URI "+k.URI+" carries no KID Satchel can read", "that is fine for other key servers; Satchel writes skd://…/<KID hex>")
				continue
			}
			if kid != t.kid {
				v.rep.fail(CatDRM, t.subject, fmt.Sprintf("EXT-X-KEY skd URI names KID %s but the track's tenc KID is %s", kid, t.kid), "re-package so the playlist and the media agree")
				continue
			}
			if t.scheme != "cbcs" {
				v.rep.fail(CatDRM, t.subject, "FairPlay signalled for "+t.scheme+" content", "FairPlay needs cbcs (SAMPLE-AES)")
				continue
			}
			v.fpURIs = append(v.fpURIs, k.URI)
			v.rep.pass(CatDRM, t.subject, "EXT-X-KEY FairPlay %s matches tenc", k.URI)
		case drm.KeyFormatWidevine, drm.KeyFormatClearKey:
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(k.URI, "data:text/plain;base64,"))
			if err != nil {
				continue
			}
			if b, err := drm.DecodePSSHBytes(raw); err == nil {
				if info, err := drm.DecodePSSH(b); err == nil {
					if !containsKID(info.KIDs, t.kid) {
						v.rep.fail(CatDRM, t.subject, fmt.Sprintf("EXT-X-KEY %s lists %v, not the tenc KID %s", k.KeyFormat, info.KIDs, t.kid), "re-package so the playlist and the media agree")
					} else if _, ok := v.systems[info.System]; !ok {
						v.systems[info.System] = raw
					}
				}
			}
		}
	}
}

func containsKID(list []drm.KID, k drm.KID) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

func (v *verifier) lintPolicy() {
	if v.in.Policy == nil {
		return
	}
	p := v.in.Policy
	for _, is := range policy.Validate(p, true) {
		status := Warn
		msg := "offline: " + is.Message
		v.rep.add(CatPolicy, status, "policy "+p.Name, is.Field+": "+msg, is.Fix)
	}
	if !policy.HasErrors(policy.Validate(p, true)) {
		v.rep.pass(CatPolicy, "policy "+p.Name, "valid for offline playback")
	}
}

// licenseRoundTrip requests a license per signalled system and collects the licensed keys.
func (v *verifier) licenseRoundTrip(ctx context.Context) {
	if len(v.kids) == 0 {
		return
	}
	base := v.in.LicenseURL
	if base == "" {
		if len(v.in.Keys) == 0 {
			v.rep.warn(CatLicense, "license", "no keys and no license server given: the license round trip and decryption are skipped", "pass --keys keys.cpix.xml, --key KID:KEY or --license-url URL")
			return
		}
		srv := &license.Server{Keys: license.StaticKeys(v.in.Keys), Policy: func() *policy.Policy { return v.in.Policy }, Ledger: &license.MemoryLedger{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			v.rep.fail(CatLicense, "license", "cannot start the embedded license server: "+err.Error(), "free a loopback port")
			return
		}
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go license.Serve(sctx, ln, srv.Handler(), "", "")
		base = "http://" + ln.Addr().String()
	}
	client := license.NewClient(base, v.in.Token)
	var kids []drm.KID
	for k := range v.kids {
		kids = append(kids, k)
	}
	var licensed []drm.ContentKey
	record := func(sys drm.System, endpoint string, lic *license.License, err error) {
		ex := Exchange{System: string(sys), Endpoint: endpoint}
		if lic != nil {
			ex.Request, ex.Response = jsonOrString(lic.RawRequest), jsonOrString(lic.RawResponse)
		}
		subject := sys.Title() + " license"
		if err != nil {
			ex.Error = err.Error()
			var se *license.StatusError
			fix := "check the license server, the token and the policy"
			if errors.As(err, &se) && se.Status == http.StatusNotFound {
				fix = "give the key for that KID (--keys CPIX or --key KID:KEY)"
			}
			v.rep.fail(CatLicense, subject, "license request failed: "+err.Error(), fix)
		} else {
			exp := "no expiry"
			if lic.ExpiresAt != nil {
				exp = "expires " + lic.ExpiresAt.Format(time.RFC3339)
			}
			v.rep.pass(CatLicense, subject, "issued %d key(s), persistent=%v, %s", len(lic.Keys), lic.Persistent, exp)
			if !lic.Persistent {
				v.rep.warn(CatPolicy, subject, "the license is not persistent: it cannot be stored, so offline playback after download will fail", "use a policy that allows persistence (Widevine can_persist, PlayReady Persistent, FairPlay DualExpiry/Persistent*, ClearKey persistent-license)")
			}
			licensed = append(licensed, lic.Keys...)
		}
		v.rep.LicenseExchanges = append(v.rep.LicenseExchanges, ex)
	}
	if _, ok := v.systems[drm.ClearKey]; ok {
		persistent := v.in.Policy == nil || v.in.Policy.Persistent("clearkey")
		lic, err := client.ClearKey(ctx, kids, persistent)
		record(drm.ClearKey, base+"/clearkey", lic, err)
	}
	for _, sys := range []drm.System{drm.Widevine, drm.PlayReady} {
		if init, ok := v.systems[sys]; ok && len(init) > 0 {
			lic, err := client.TestLicense(ctx, sys, init)
			record(sys, base+"/license/"+string(sys), lic, err)
		}
	}
	seen := map[string]bool{}
	for _, u := range v.fpURIs {
		if seen[u] {
			continue
		}
		seen[u] = true
		lic, err := client.TestLicense(ctx, drm.FairPlay, []byte(u))
		record(drm.FairPlay, base+"/license/fairplay", lic, err)
	}
	if len(v.systems) == 0 && len(v.fpURIs) == 0 {
		v.rep.warn(CatDRM, "signalling", "no DRM system is signalled (no pssh, no EXT-X-KEY)", "package with --drm so players know where to get licenses")
	}
	// Decrypt with what the licenses delivered; fall back to the given keys.
	if len(licensed) > 0 {
		v.keys = append(licensed, v.in.Keys...)
	}
}

func jsonOrString(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if b[0] == '{' || b[0] == '[' {
		return bytes.TrimSpace(b)
	}
	q := fmt.Sprintf("%q", string(b))
	return []byte(q)
}
