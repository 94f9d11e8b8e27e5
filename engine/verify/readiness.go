package verify

import (
	"slices"

	"satchel/engine/devices"
	"satchel/engine/drm"
)

// Evidence returns what the verified package offers for the device rules (engine/devices),
// from the report's inventory: one presentation per entry point a device can download (each
// MPD, each HLS playlist, each single-file MP4), with its schemes, key IDs, DRM signals and
// where they are, and its audio and subtitle renditions. A rendition folder checked on its own
// is not a presentation. The policy is the caller's to set.
func (r *Report) Evidence() devices.Evidence {
	inv := &r.Inventory
	ev := devices.Evidence{Source: r.Target}
	for _, mf := range inv.Manifests {
		d, ok := deliveryOf(mf.Kind)
		if !ok {
			continue
		}
		p := devices.Presentation{Delivery: d, Location: mf.File, Dynamic: mf.Dynamic, Schemes: mf.Schemes,
			AudioTracks: mf.AudioTracks, TextTracks: mf.TextRenditions, AudioOnlyVariants: mf.AudioOnlyVariants,
			VideoWithoutAudio: mf.VideoWithoutAudio}
		files := map[string]bool{}
		for _, t := range inv.Tracks {
			if t.Entry != mf.File {
				continue
			}
			files[t.File] = true
			p.PIFF = p.PIFF || t.PIFF
			if t.KID != nil && !slices.Contains(p.KIDs, *t.KID) {
				p.KIDs = append(p.KIDs, *t.KID)
			}
			p.Schemes = appendScheme(p.Schemes, t.Scheme)
		}
		for _, s := range inv.Signals {
			if s.System == "" || (s.Entry != mf.File && !(fromMedia(s.Source) && files[s.File])) {
				continue
			}
			p.Signals = append(p.Signals, deviceSignal(s))
		}
		ev.Presentations = append(ev.Presentations, p)
	}
	return ev
}

func deliveryOf(k ManifestKind) (devices.Delivery, bool) {
	switch k {
	case KindDASH:
		return devices.DeliveryDASH, true
	case KindHLSMaster, KindHLSMedia:
		return devices.DeliveryHLS, true
	case KindFile:
		return devices.DeliveryDownload, true
	}
	return "", false
}

// fromMedia reports whether a signal comes from a media file (init segment, single file or
// media segment), which entries that share the file share too.
func fromMedia(src SignalSource) bool {
	return src == SourceInitPSSH || src == SourcePIFFPSSH || src == SourceMoofPSSH
}

// places maps where the inventory found a signal to where the device rules look for one.
var places = map[SignalSource]devices.Place{
	SourceMPDPSSH:       devices.PlaceMPD,
	SourceMPDPRO:        devices.PlaceMPD,
	SourceMPDClearKey:   devices.PlaceMPDDescriptor,
	SourceInitPSSH:      devices.PlaceInit,
	SourcePIFFPSSH:      devices.PlacePIFF,
	SourceMoofPSSH:      devices.PlaceMoof,
	SourceHLSKey:        devices.PlaceHLSKey,
	SourceHLSSessionKey: devices.PlaceHLSSessionKey,
}

func deviceSignal(s Signal) devices.Signal {
	loc := s.File
	if s.At != "" {
		loc += ", " + s.At
	}
	return devices.Signal{System: s.System, Place: places[s.Source], Location: loc, Track: s.Rendition, Kind: s.Kind,
		KIDs: s.KIDs, ContentID: s.WidevineContentID, PlayReadyVersion: s.PlayReadyVersion, PlayReadyAlgID: s.AlgID,
		Size: s.Size, Method: s.Method, KeyFormat: s.KeyFormat, InitData: s.InitData}
}

// readiness evaluates the device profiles on what was verified, under the input's policy; nil
// when the input offers nothing a device downloads (a rendition folder on its own).
func (v *verifier) readiness() *devices.Matrix {
	ev := v.rep.Evidence()
	if len(ev.Presentations) == 0 {
		return nil
	}
	ev.Policy, ev.PolicySource = v.in.Policy, v.in.PolicySource
	m := devices.Evaluate(ev, v.in.Devices)
	return &m
}

// LicenseContent is what a license request for the verified package carries, per DRM system:
// the init data of each signalled system (preferring the manifests', as players do) and every
// key ID the tracks use (ClearKey requests name KIDs). The simulated device acquires its
// licenses with it.
func (r *Report) LicenseContent() (systems []drm.System, kids []drm.KID, initData map[drm.System][]byte) {
	ev := r.Evidence()
	initData = ev.InitData()
	for _, sys := range ev.Systems() {
		if len(initData[sys]) > 0 || sys == drm.ClearKey {
			systems = append(systems, sys)
		}
	}
	return systems, ev.KIDs(), initData
}
