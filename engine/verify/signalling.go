package verify

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
)

// piffPSSHUUID is the extended type of the PIFF 1.1 ProtectionSystemSpecificHeaderBox.
const piffPSSHUUID = "d08a4f18-10f3-4a82-b6c8-32d8aba183d3"

// psshSource is one pssh box found somewhere, with where.
type psshSource struct {
	box   *mp4.PsshBox
	raw   []byte
	where Where
	src   SignalSource
}

// initSignals records the pssh boxes of an init segment or file (moov pssh and PIFF uuid
// pssh) in the inventory; the per-track KID checks use them through m.
func (v *verifier) initSignals(m *mediaRef, file string, init *mp4.InitSegment) {
	kind := media.Kind("")
	if len(init.Moov.Traks) == 1 {
		if t := init.Moov.Traks[0]; t.Mdia != nil && t.Mdia.Hdlr != nil {
			kind, _ = media.KindForHandler(t.Mdia.Hdlr.HandlerType)
		}
	}
	for i, b := range init.Moov.Psshs {
		raw, _ := drm.BoxBytes(b)
		v.psshSeen(m, kind, psshSource{box: b, raw: raw, where: Where{File: file, At: fmt.Sprintf("moov/pssh[%d]", i)},
			src: SourceInitPSSH})
	}
	for i, c := range init.Moov.Children {
		u, ok := c.(*mp4.UUIDBox)
		if !ok || u.UUID() != piffPSSHUUID {
			continue
		}
		w := Where{File: file, At: fmt.Sprintf("moov/uuid[piff-pssh %d]", i)}
		b, raw, err := piffPSSH(u.UnknownPayload)
		if err != nil {
			v.rep.failAt(w, CatDRM, m.subject, "PIFF pssh does not decode: "+err.Error(), "re-package the file")
			continue
		}
		v.psshSeen(m, kind, psshSource{box: b, raw: raw, where: w, src: SourcePIFFPSSH})
	}
}

// piffPSSH turns a PIFF uuid pssh payload (version/flags, SystemID, DataSize, Data) into a
// standard version-0 pssh box.
func piffPSSH(p []byte) (*mp4.PsshBox, []byte, error) {
	if len(p) < 24 {
		return nil, nil, fmt.Errorf("payload of %d bytes is too short", len(p))
	}
	n := binary.BigEndian.Uint32(p[20:])
	if uint64(n) != uint64(len(p)-24) {
		return nil, nil, fmt.Errorf("DataSize %d does not match the %d bytes that follow", n, len(p)-24)
	}
	raw := make([]byte, 0, 8+len(p))
	raw = binary.BigEndian.AppendUint32(raw, uint32(8+4+16+4+len(p)-24))
	raw = append(raw, "pssh"...)
	raw = append(raw, 0, 0, 0, 0)
	raw = append(raw, p[4:]...)
	b, err := drm.DecodePSSHBytes(raw)
	return b, raw, err
}

// psshSeen records a pssh box in the inventory and keeps it for the track checks.
func (v *verifier) psshSeen(m *mediaRef, kind media.Kind, s psshSource) {
	info, err := drm.DecodePSSH(s.box)
	sig := Signal{Source: s.src, Entry: m.entry.name, File: s.where.File, At: s.where.At, Rendition: m.rendition,
		Kind: kind}
	if err != nil {
		v.rep.failAt(s.where, CatDRM, m.subject, "a pssh box does not decode: "+err.Error(),
			"re-package; players cannot request a license from it")
		return
	}
	fillSignal(&sig, info, s)
	v.rep.Inventory.Signals = append(v.rep.Inventory.Signals, sig)
	fact := &v.rep.Inventory.Manifests[m.entry.fact]
	fact.Systems = appendSystem(fact.Systems, info.System)
	m.psshs = append(m.psshs, s)
}

// fillSignal fills a signal from a decoded pssh box: what it lists, and the box itself as the
// init data a license request carries.
func fillSignal(sig *Signal, info *drm.PSSHInfo, s psshSource) {
	sig.System, sig.SystemID, sig.PSSHVersion, sig.KIDs = info.System, info.SystemID, info.Version, info.KIDs
	sig.InitData, sig.Size = s.raw, len(s.raw)
	if info.PlayReady != nil && s.box != nil {
		sig.Size = len(s.box.Data)
	}
	if h := info.PlayReady; h != nil {
		sig.PlayReadyVersion, sig.AlgID, sig.LAURL, sig.HasChecksum = h.Version, h.AlgID, h.LAURL, len(h.Checksums) > 0
	}
	if w := info.Widevine; w != nil {
		sig.WidevineContentID, sig.WidevineScheme = len(w.ContentID) > 0, w.ProtectionScheme
	}
}

// checkSignalling checks every place the track's manifest and init signal DRM: each pssh
// (init, PIFF, MPD) lists the tenc KID and, for PlayReady, a CHECKSUM that matches the key;
// each mspr:pro and cenc:default_KID agrees; each HLS EXT-X-KEY names the same key. Each
// finding says which copy it is about.
func (v *verifier) checkSignalling(t *trackInfo) {
	if !t.encrypted() {
		return
	}
	m := t.ref
	for _, s := range m.psshs {
		v.checkPSSH(t, s)
	}
	for _, p := range m.prot {
		v.checkProtection(t, p)
	}
	for i, k := range m.hlsKeys {
		w := Where{File: v.fetch.rel(m.playlist), At: fmt.Sprintf("EXT-X-KEY[%d]", i)}
		v.checkHLSKey(t, w, k)
	}
}

func (v *verifier) checkPSSH(t *trackInfo, s psshSource) {
	info, err := drm.DecodePSSH(s.box)
	if err != nil {
		return // reported when it was found
	}
	kid := t.prot.KID
	if info.System == "" {
		v.rep.warnAt(s.where, CatDRM, t.subject, "pssh for an unknown system "+info.SystemID, "")
		return
	}
	if _, ok := v.systems[info.System]; !ok && len(s.raw) > 0 {
		v.systems[info.System] = s.raw
	}
	if len(info.KIDs) > 0 && !containsKID(info.KIDs, kid) {
		v.rep.failAt(s.where, CatDRM, t.subject, fmt.Sprintf("%s pssh lists KIDs %v but the track's tenc KID is %s",
			info.System.Title(), info.KIDs, kid), "re-package so the pssh and tenc name the same key")
		return
	}
	if info.PlayReady != nil {
		if err := v.checkPlayReadyHeader(t, s.where, info.PlayReady); err != nil {
			return
		}
	}
	v.rep.passAt(s.where, CatDRM, t.subject, "%s pssh v%d decodes and lists KID %s", info.System.Title(), info.Version, kid)
}

// checkPlayReadyHeader checks the header's ALGID for the scheme and its CHECKSUM against the
// key, when the header carries one and the key is known.
func (v *verifier) checkPlayReadyHeader(t *trackInfo, w Where, h *drm.PlayReadyHeader) error {
	if t.prot.Scheme == drm.SchemeCBCS && h.AlgID != "" && h.AlgID != "AESCBC" {
		v.rep.failAt(w, CatDRM, t.subject, fmt.Sprintf("PlayReady header %s says ALGID %s for cbcs content", h.Version, h.AlgID),
			"cbcs needs a 4.3 header with ALGID AESCBC")
		return fmt.Errorf("algid")
	}
	if k, ok := drm.KeyByKID(v.inKeys, t.prot.KID); ok {
		if err := h.CheckKey(k); err != nil {
			v.rep.failAt(w, CatDRM, t.subject, err.Error(), "use the key the content was packaged with (KID "+t.prot.KID.String()+")")
			return err
		}
	}
	return nil
}

func (v *verifier) checkProtection(t *trackInfo, p manifest.ProtectionInfo) {
	w := Where{File: t.ref.entry.name, At: "MPD/" + p.Element}
	kid := t.prot.KID
	scheme := strings.TrimPrefix(p.SchemeIDURI, "urn:uuid:")
	if sys, ok := systemForScheme(scheme); ok {
		w.At += "[" + string(sys) + "]"
	}
	if p.DefaultKID != "" {
		k, err := drm.ParseKID(p.DefaultKID)
		if err != nil || k != kid {
			v.rep.failAt(w, CatDRM, t.subject, fmt.Sprintf("cenc:default_KID %s differs from the track's tenc KID %s", p.DefaultKID, kid),
				"re-package: players request the wrong key otherwise")
		} else {
			v.rep.passAt(w, CatDRM, t.subject, "cenc:default_KID matches tenc (%s)", kid)
		}
	}
	if p.SchemeIDURI == "urn:mpeg:dash:mp4protection:2011" && p.Value != "" && p.Value != string(t.prot.Scheme) && !t.prot.PIFF {
		v.rep.failAt(w, CatDRM, t.subject, fmt.Sprintf("the MPD says scheme %s, the track is %s", p.Value, t.prot.Scheme),
			"re-package so the MPD and the media agree")
	}
	if len(p.PSSH) > 0 {
		b, err := drm.DecodePSSHBytes(p.PSSH)
		if err != nil {
			v.rep.failAt(w, CatDRM, t.subject, "cenc:pssh does not decode: "+err.Error(), "re-package the manifest")
		} else {
			s := psshSource{box: b, raw: p.PSSH, where: Where{File: w.File, At: w.At + "/cenc:pssh"}, src: SourceMPDPSSH}
			v.recordManifestSignal(t, s)
			v.checkPSSH(t, s)
		}
	}
	if len(p.PRO) > 0 {
		v.checkPRO(t, Where{File: w.File, At: w.At + "/mspr:pro"}, p.PRO)
	}
	if p.LAURL != "" && scheme == drm.ClearKeyDASHSchemeID {
		if _, ok := v.systems[drm.ClearKey]; !ok {
			v.systems[drm.ClearKey] = nil // signalled by the DASH-IF ClearKey descriptor
		}
		v.recordOnce(t, Signal{System: drm.ClearKey, Source: SourceMPDClearKey, File: w.File, At: w.At, LAURL: p.LAURL})
	}
}

func (v *verifier) checkPRO(t *trackInfo, w Where, pro []byte) {
	h, err := drm.ParsePlayReadyObject(pro)
	switch {
	case err != nil:
		v.rep.failAt(w, CatDRM, t.subject, "mspr:pro does not decode: "+err.Error(), "re-package the manifest")
		return
	case !containsKID(h.KIDs, t.prot.KID):
		v.rep.failAt(w, CatDRM, t.subject, fmt.Sprintf("mspr:pro lists KIDs %v, not the tenc KID %s", h.KIDs, t.prot.KID),
			"re-package so the PRO and tenc agree")
		return
	}
	v.recordOnce(t, Signal{System: drm.PlayReady, Source: SourceMPDPRO, File: w.File, At: w.At, KIDs: h.KIDs,
		PlayReadyVersion: h.Version, AlgID: h.AlgID, LAURL: h.LAURL, HasChecksum: len(h.Checksums) > 0,
		InitData: pro, Size: len(pro)})
	if v.checkPlayReadyHeader(t, w, h) == nil {
		v.rep.passAt(w, CatDRM, t.subject, "mspr:pro WRMHEADER %s lists KID %s", h.Version, t.prot.KID)
	}
}

func (v *verifier) recordManifestSignal(t *trackInfo, s psshSource) {
	info, err := drm.DecodePSSH(s.box)
	if err != nil {
		return
	}
	sig := Signal{Source: s.src, File: s.where.File, At: s.where.At}
	fillSignal(&sig, info, s)
	v.recordOnce(t, sig)
}

// recordOnce adds a manifest signal to the inventory once per element (an AdaptationSet's
// ContentProtection is seen by each of its Representations).
func (v *verifier) recordOnce(t *trackInfo, sig Signal) {
	key := sig.File + "|" + sig.At
	if v.signalSeen[key] {
		return
	}
	v.signalSeen[key] = true
	sig.Entry, sig.Rendition, sig.Kind = t.ref.entry.name, t.ref.rendition, t.kind
	v.rep.Inventory.Signals = append(v.rep.Inventory.Signals, sig)
	fact := &v.rep.Inventory.Manifests[t.ref.entry.fact]
	fact.Systems = appendSystem(fact.Systems, sig.System)
}

func (v *verifier) checkHLSKey(t *trackInfo, w Where, k manifest.KeyTag) {
	kids := v.hlsSignal(t.ref.entry, t, w, SourceHLSKey, k)
	kid := t.prot.KID
	switch k.KeyFormat {
	case drm.KeyFormatFairPlay:
		if len(kids) == 0 {
			v.rep.warnAt(w, CatDRM, t.subject, "FairPlay key URI "+k.URI+" carries no KID Satchel can read",
				"that is fine for other key servers; Satchel writes skd://…/<KID hex>")
			return
		}
		if kids[0] != kid {
			v.rep.failAt(w, CatDRM, t.subject, fmt.Sprintf("EXT-X-KEY skd URI names KID %s but the track's tenc KID is %s", kids[0], kid),
				"re-package so the playlist and the media agree")
			return
		}
		if t.prot.Scheme != drm.SchemeCBCS {
			v.rep.failAt(w, CatDRM, t.subject, "FairPlay signalled for "+string(t.prot.Scheme)+" content", "FairPlay needs cbcs (SAMPLE-AES)")
			return
		}
		v.fpURIs = append(v.fpURIs, k.URI)
		v.rep.passAt(w, CatDRM, t.subject, "EXT-X-KEY FairPlay %s matches tenc", k.URI)
	case drm.KeyFormatWidevine, drm.KeyFormatClearKey, drm.KeyFormatPlayReady:
		raw := dataURIBytes(k.URI)
		if len(kids) > 0 && !containsKID(kids, kid) {
			v.rep.failAt(w, CatDRM, t.subject, fmt.Sprintf("EXT-X-KEY %s lists %v, not the tenc KID %s", k.KeyFormat, kids, kid),
				"re-package so the playlist and the media agree")
			return
		}
		sys := drm.PlayReady // the PlayReady Object itself, when it is not a pssh box
		if info := decodeDataURIPSSH(k.URI); info != nil {
			sys = info.System
		} else if len(kids) == 0 {
			sys = ""
		}
		if sys != "" {
			if _, ok := v.systems[sys]; !ok {
				v.systems[sys] = raw
			}
			v.rep.passAt(w, CatDRM, t.subject, "EXT-X-KEY %s lists KID %s", sys.Title(), kid)
		}
	}
}

func dataURIBytes(uri string) []byte {
	_, data, ok := strings.Cut(uri, ";base64,")
	if !ok {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil
	}
	return raw
}

// decodeDataURIPSSH decodes a data: URI holding a pssh box (HLS Widevine/ClearKey keys).
func decodeDataURIPSSH(uri string) *drm.PSSHInfo {
	raw := dataURIBytes(uri)
	if raw == nil {
		return nil
	}
	b, err := drm.DecodePSSHBytes(raw)
	if err != nil {
		return nil
	}
	info, err := drm.DecodePSSH(b)
	if err != nil {
		return nil
	}
	return info
}

func systemForScheme(id string) (drm.System, bool) {
	id = strings.ToLower(id)
	for _, s := range drm.AllSystems {
		if s.SystemID().String() == id {
			return s, true
		}
	}
	if id == drm.ClearKeyDASHSchemeID {
		return drm.ClearKey, true
	}
	return "", false
}

func containsKID(list []drm.KID, k drm.KID) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

// moofSignals checks pssh boxes carried in a moof (key rotation or late signalling).
func (v *verifier) moofSignals(t *trackInfo, f *mp4.Fragment, file string) {
	if f.Moof == nil || len(f.Moof.Psshs) == 0 || t.moofPSSHSeen {
		return
	}
	t.moofPSSHSeen = true
	for i, b := range f.Moof.Psshs {
		raw, _ := drm.BoxBytes(b)
		s := psshSource{box: b, raw: raw, where: Where{File: file, At: fmt.Sprintf("moof/pssh[%d]", i)}, src: SourceMoofPSSH}
		v.psshSeenOnce(t, s)
	}
}

func (v *verifier) psshSeenOnce(t *trackInfo, s psshSource) {
	info, err := drm.DecodePSSH(s.box)
	if err != nil {
		v.rep.failAt(s.where, CatDRM, t.subject, "a pssh box in a moof does not decode: "+err.Error(), "re-package")
		return
	}
	sig := Signal{Source: s.src, File: s.where.File, At: s.where.At}
	fillSignal(&sig, info, s)
	v.recordOnce(t, sig)
	v.checkPSSH(t, s)
}
