package verify

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/policy"
)

// The readiness fixtures are written at test time: init segments protected with engine/cenc and
// signalled with engine/drm, and manifests written by hand, so each case can vary one thing
// (where the PSSH is, which KIDs it lists). Verification runs in SignallingOnly mode: the
// media segments the manifests list are never read.

var (
	kVideo = drm.KID{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01}
	kAudio = drm.KID{0x6f, 0x65, 0x1a, 0xe1, 0xdb, 0xe4, 0x44, 0x34, 0xbc, 0xb4, 0x69, 0x0d, 0x15, 0x64, 0xc4, 0x1c}
	both   = []drm.KID{kVideo, kAudio}
)

func contentKey(t testing.TB, tt string, kid drm.KID, hexKey string) drm.ContentKey {
	t.Helper()
	k := drm.ContentKey{TrackType: tt, KID: kid}
	b, err := hex.DecodeString(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	copy(k.Key[:], b)
	return k
}

// avcParams reads the SPS and PPS of the committed 240p test rendition.
func avcParams(t testing.TB) (sps, pps [][]byte) {
	t.Helper()
	f, err := mp4.ReadMP4File("../../testdata/media/ladder_240p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range f.Moov.Traks {
		if avc := tr.Mdia.Minf.Stbl.Stsd.AvcX; avc != nil && avc.AvcC != nil {
			return avc.AvcC.SPSnalus, avc.AvcC.PPSnalus
		}
	}
	t.Fatal("no avcC in ladder_240p.mp4")
	return nil, nil
}

// initSegment builds a protected single-track init segment (AVC video or AAC audio) with the
// pssh boxes of sig's systems listing sig's keys, the way a packager writes one.
func initSegment(t testing.TB, kind media.Kind, key drm.ContentKey, sig drm.Signalling) *mp4.InitSegment {
	t.Helper()
	init := mp4.CreateEmptyInit()
	if kind == media.Video {
		tr := init.AddEmptyTrack(12288, "video", "und")
		sps, pps := avcParams(t)
		if err := tr.SetAVCDescriptor("avc1", sps, pps, true); err != nil {
			t.Fatal(err)
		}
	} else {
		tr := init.AddEmptyTrack(48000, "audio", "en")
		if err := tr.SetAACDescriptor(aac.AAClc, 48000); err != nil {
			t.Fatal(err)
		}
	}
	var psshs []*mp4.PsshBox
	if len(sig.Systems) > 0 {
		var err error
		if psshs, err = drm.PSSHBoxes(sig); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cenc.ProtectInit(init, key, sig.Scheme, psshs); err != nil {
		t.Fatal(err)
	}
	return init
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func encodeInit(t testing.TB, init *mp4.InitSegment) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := init.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func b64PSSH(t testing.TB, sig drm.Signalling, sys drm.System) string {
	t.Helper()
	sig.Systems = []drm.System{sys}
	boxes, err := drm.PSSHBoxes(sig)
	if err != nil {
		t.Fatal(err)
	}
	s, err := drm.PSSHBase64(boxes[0])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture writes a small package: a cenc DASH MPD (PSSH of Widevine, PlayReady and ClearKey
// in the MPD and the init segments, every PSSH listing both keys unless perRepPSSH), a cbcs
// HLS presentation with FairPlay session keys and an audio group, a cenc single-file MP4 and
// a PIFF one. It returns the folder.
func fixture(t testing.TB, perRepPSSH bool) string {
	t.Helper()
	dir := t.TempDir()
	video := contentKey(t, "SD", kVideo, "00112233445566778899aabbccddeeff")
	audio := contentKey(t, "AUDIO", kAudio, "88da852ae4fa2e1e36aeb2d5c94997b1")
	keys := []drm.ContentKey{video, audio}
	all := []drm.System{drm.Widevine, drm.PlayReady, drm.ClearKey}
	for _, sc := range drm.WrittenSchemes {
		sig := drm.Signalling{Scheme: sc, Keys: keys, Systems: all}
		writeFile(t, filepath.Join(dir, string(sc), "video", "init.mp4"), encodeInit(t, initSegment(t, media.Video, video, sig)))
		writeFile(t, filepath.Join(dir, string(sc), "audio", "init.mp4"), encodeInit(t, initSegment(t, media.Audio, audio, sig)))
	}
	writeFile(t, filepath.Join(dir, "manifest.mpd"), []byte(mpd(t, keys, perRepPSSH, "static")))
	writeHLS(t, dir, keys)
	sig := drm.Signalling{Scheme: drm.SchemeCENC, Keys: keys, Systems: []drm.System{drm.PlayReady}}
	writeFile(t, filepath.Join(dir, "download", "video.mp4"), encodeInit(t, initSegment(t, media.Video, video, sig)))
	writeFile(t, filepath.Join(dir, "download", "video_piff.mp4"), encodeInit(t, piffInit(t, initSegment(t, media.Video, video, sig))))
	writeFile(t, filepath.Join(dir, "keys.cpix.xml"), []byte("<CPIX/>"))
	return dir
}

func mpd(t testing.TB, keys []drm.ContentKey, perRep bool, typ string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" type="%s" mediaPresentationDuration="PT4S"><Period>`, typ)
	for i, kind := range []string{"video", "audio"} {
		sigKeys := keys
		if perRep {
			sigKeys = keys[i : i+1]
		}
		sig := drm.Signalling{Scheme: drm.SchemeCENC, Keys: sigKeys}
		fmt.Fprintf(&b, `<AdaptationSet contentType="%s" mimeType="%s/mp4">`, kind, kind)
		fmt.Fprintf(&b, `<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="%s"/>`, keys[i].KID)
		fmt.Fprintf(&b, `<ContentProtection schemeIdUri="urn:uuid:%s"><cenc:pssh>%s</cenc:pssh></ContentProtection>`, drm.WidevineSystemID, b64PSSH(t, sig, drm.Widevine))
		fmt.Fprintf(&b, `<ContentProtection schemeIdUri="urn:uuid:%s" value="MSPR 2.0"><cenc:pssh>%s</cenc:pssh></ContentProtection>`, drm.PlayReadySystemID, b64PSSH(t, sig, drm.PlayReady))
		fmt.Fprintf(&b, `<ContentProtection schemeIdUri="urn:uuid:%s"><cenc:pssh>%s</cenc:pssh></ContentProtection>`, drm.CommonSystemID, b64PSSH(t, sig, drm.ClearKey))
		fmt.Fprintf(&b, `<ContentProtection schemeIdUri="urn:uuid:%s" value="ClearKey1.0"/>`, drm.ClearKeyDASHSchemeID)
		fmt.Fprintf(&b, `<SegmentTemplate timescale="1000" duration="4000" initialization="cenc/%s/init.mp4" media="cenc/%s/seg_$Number$.m4s"/>`, kind, kind)
		fmt.Fprintf(&b, `<Representation id="%s" bandwidth="100000" codecs="%s"/></AdaptationSet>`, kind, map[string]string{"video": "avc1.64001e", "audio": "mp4a.40.2"}[kind])
	}
	b.WriteString("</Period></MPD>")
	return b.String()
}

func writeHLS(t testing.TB, dir string, keys []drm.ContentKey) {
	sig := drm.Signalling{Scheme: drm.SchemeCBCS, Keys: keys, Systems: []drm.System{drm.FairPlay, drm.Widevine}}
	var master strings.Builder
	master.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n")
	for _, k := range keys {
		tags, err := drm.HLSKeys(sig, k.KID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			master.WriteString("#EXT-X-SESSION-KEY:" + tag.Attributes() + "\n")
		}
	}
	master.WriteString(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="cbcs/audio/playlist.m3u8"` + "\n")
	master.WriteString(`#EXT-X-STREAM-INF:BANDWIDTH=300000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=426x240,AUDIO="aud"` + "\ncbcs/video/playlist.m3u8\n")
	writeFile(t, filepath.Join(dir, "master.m3u8"), []byte(master.String()))
	for i, kind := range []string{"video", "audio"} {
		tags, _ := drm.HLSKeys(sig, keys[i].KID)
		var pl strings.Builder
		pl.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n")
		for _, tag := range tags {
			pl.WriteString("#EXT-X-KEY:" + tag.Attributes() + "\n")
		}
		pl.WriteString("#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.0,\nseg_1.m4s\n#EXT-X-ENDLIST\n")
		writeFile(t, filepath.Join(dir, "cbcs", kind, "playlist.m3u8"), []byte(pl.String()))
	}
}

// piffInit rewrites a protected init segment the way PIFF 1.1 files carry protection: scheme
// "piff", a uuid tenc box in schi, and the PlayReady pssh as a uuid box.
func piffInit(t testing.TB, init *mp4.InitSegment) *mp4.InitSegment {
	t.Helper()
	sinf := init.Moov.Trak.Mdia.Minf.Stbl.Stsd.AvcX.Sinf
	kid := sinf.Schi.Tenc.DefaultKID
	sinf.Schm.SchemeType = "piff"
	u := &mp4.UUIDBox{PiffTenc: &mp4.PiffTencData{AlgorithmID: 1, IVSize: 8, KID: kid}}
	if err := u.SetUUID(mp4.UUIDPiffTenc); err != nil {
		t.Fatal(err)
	}
	schi := &mp4.SchiBox{}
	schi.AddChild(u)
	for i, c := range sinf.Children {
		if c == sinf.Schi {
			sinf.Children[i] = schi
		}
	}
	sinf.Schi = schi
	psshs := init.Moov.RemovePsshs()
	for _, p := range psshs {
		payload := make([]byte, 24+len(p.Data))
		copy(payload[4:20], p.SystemID)
		binary.BigEndian.PutUint32(payload[20:24], uint32(len(p.Data)))
		copy(payload[24:], p.Data)
		pu := &mp4.UUIDBox{UnknownPayload: payload}
		if err := pu.SetUUID("d08a4f1810f34a82b6c832d8aba183d3"); err != nil {
			t.Fatal(err)
		}
		init.Moov.AddChild(pu)
	}
	return init
}

func signallingOnly(t *testing.T, target string, client *http.Client) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), Input{Path: target, SignallingOnly: true, HTTPClient: client,
		Policy: policy.Preset(policy.PresetRental48h), PolicySource: "preset"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func placed(p devices.Presentation, sys drm.System, place devices.Place) []devices.Signal {
	var out []devices.Signal
	for _, s := range p.Signals {
		if s.System == sys && s.Place == place {
			out = append(out, s)
		}
	}
	return out
}

// TestEvidenceFromInventory: the evidence the device rules see comes from what verify read —
// one presentation per entry point, with the signals of its manifest and of the init segments
// its tracks use, and where each one is.
func TestEvidenceFromInventory(t *testing.T) {
	dir := fixture(t, false)
	rep := signallingOnly(t, dir, nil)
	ev := rep.Evidence()
	var locs []string
	for _, p := range ev.Presentations {
		locs = append(locs, fmt.Sprintf("%s=%s:%v:piff=%v", p.Location, p.Delivery, p.Schemes, p.PIFF))
	}
	want := "manifest.mpd=dash:[cenc]:piff=false master.m3u8=hls:[cbcs]:piff=false " +
		"download/video.mp4=download:[cenc]:piff=false download/video_piff.mp4=download:[cenc]:piff=true"
	if strings.Join(locs, " ") != want {
		t.Fatalf("presentations\n got %s\nwant %s", strings.Join(locs, " "), want)
	}
	dash, hls, dl, piff := ev.Presentations[0], ev.Presentations[1], ev.Presentations[2], ev.Presentations[3]
	if !slices.Equal(dash.KIDs, both) || dash.AudioTracks != 1 || len(placed(dash, drm.Widevine, devices.PlaceMPD)) != 2 ||
		len(placed(dash, drm.Widevine, devices.PlaceInit)) != 2 || len(placed(dash, drm.ClearKey, devices.PlaceMPDDescriptor)) != 0 {
		t.Errorf("dash evidence %+v", dash)
	}
	if s := placed(dash, drm.Widevine, devices.PlaceMPD)[0]; s.Kind != media.Video || len(s.KIDs) != 2 || s.Track != "video" ||
		!strings.HasPrefix(s.Location, "manifest.mpd, MPD/Period[0]/AdaptationSet[video]/ContentProtection[1]") ||
		!bytes.Contains(s.InitData, []byte("pssh")) {
		t.Errorf("widevine mpd signal %+v", s)
	}
	if len(placed(hls, drm.FairPlay, devices.PlaceHLSSessionKey)) != 2 || len(placed(hls, drm.FairPlay, devices.PlaceHLSKey)) != 2 ||
		hls.AudioTracks != 1 || hls.VideoWithoutAudio != 0 || hls.Dynamic || !slices.Contains(hls.KIDs, kAudio) ||
		len(placed(hls, drm.Widevine, devices.PlaceInit)) != 2 {
		t.Errorf("hls evidence %+v", hls)
	}
	if s := placed(dl, drm.PlayReady, devices.PlaceInit); len(s) != 1 || s[0].PlayReadyVersion != "4.2.0.0" || len(s[0].KIDs) != 2 ||
		s[0].Location != "download/video.mp4, moov/pssh[0]" {
		t.Errorf("download evidence %+v", dl)
	}
	if s := placed(piff, drm.PlayReady, devices.PlacePIFF); len(s) != 1 || len(s[0].KIDs) != 2 || !slices.Equal(piff.KIDs, []drm.KID{kVideo}) {
		t.Errorf("piff evidence %+v", piff)
	}
	systems, kids, init := rep.LicenseContent()
	if !bytes.HasPrefix(init[drm.FairPlay], []byte("skd://")) || len(init[drm.Widevine]) == 0 || len(init[drm.PlayReady]) == 0 ||
		!slices.Equal(kids, both) || !slices.Equal(systems, []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay, drm.ClearKey}) {
		t.Errorf("license content %v %v %v", systems, kids, init)
	}
	m := rep.Readiness
	if m == nil || len(m.Rows) != len(devices.Profiles()) || m.Policy != "Offline rental 48 h" {
		t.Fatalf("readiness %+v", m)
	}
	for _, r := range m.Rows {
		if (r.Verdict == devices.Ready) == (r.Device == devices.ChromeDesktop) {
			t.Errorf("%s: %s %+v", r.Device, r.Verdict, r.Findings)
		}
	}
}

// TestReadinessRulesFromPackages: rules fire on what verify found in the files.
func TestReadinessRulesFromPackages(t *testing.T) {
	row := func(t *testing.T, rep *Report, id devices.ProfileID) devices.Row {
		t.Helper()
		r, ok := rep.Readiness.Row(id)
		if !ok {
			t.Fatalf("no row %s", id)
		}
		return r
	}
	t.Run("per-representation PSSH", func(t *testing.T) {
		// PSSHs that name only their own representation's key make ExoPlayer's one offline
		// license miss the audio key.
		rep := signallingOnly(t, filepath.Join(fixture(t, true), "manifest.mpd"), nil)
		r := row(t, rep, devices.AndroidL1)
		if r.Verdict != devices.NotReady || r.Findings[0].Rule != "exoplayer-one-key-set" ||
			!strings.Contains(r.Findings[0].Evidence, "lists 1 of the 2 key IDs") {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("PSSH only in the init segments", func(t *testing.T) {
		dir := fixture(t, false)
		edit(t, filepath.Join(dir, "manifest.mpd"), func(s string) string {
			return regexpPSSH.ReplaceAllString(s, "")
		})
		rep := signallingOnly(t, filepath.Join(dir, "manifest.mpd"), nil)
		r := row(t, rep, devices.ShakaOffline)
		if r.Verdict != devices.NotReady || r.Findings[0].Rule != "shaka-pssh-in-manifest" ||
			!strings.Contains(r.Findings[0].Evidence, "only in the segments (cenc/video/init.mp4, moov/pssh[0])") {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("FairPlay without EXT-X-SESSION-KEY", func(t *testing.T) {
		dir := fixture(t, false)
		edit(t, filepath.Join(dir, "master.m3u8"), func(s string) string {
			var keep []string
			for _, l := range strings.Split(s, "\n") {
				if !strings.HasPrefix(l, "#EXT-X-SESSION-KEY") {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n")
		})
		rep := signallingOnly(t, filepath.Join(dir, "master.m3u8"), nil)
		if r := row(t, rep, devices.AppleFairPlay); r.Verdict != devices.NotReady || r.Findings[0].Rule != "fairplay-session-key" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("live MPD", func(t *testing.T) {
		dir := fixture(t, false)
		edit(t, filepath.Join(dir, "manifest.mpd"), func(s string) string {
			return strings.Replace(s, `type="static"`, `type="dynamic"`, 1)
		})
		rep := signallingOnly(t, filepath.Join(dir, "manifest.mpd"), nil)
		if r := row(t, rep, devices.AndroidL1); r.Verdict != devices.NotReady || r.Findings[0].Rule != "static-presentation" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("device filter and no policy", func(t *testing.T) {
		rep, err := Verify(context.Background(), Input{Path: fixture(t, false), SignallingOnly: true,
			Devices: []devices.ProfileID{devices.WindowsPR4, devices.AppleFairPlay}})
		if err != nil {
			t.Fatal(err)
		}
		m := rep.Readiness
		if len(m.Rows) != 2 || m.Rows[0].Device != devices.WindowsPR4 || m.Rows[0].Verdict != devices.Unknown || m.Policy != "" {
			t.Fatalf("%+v", m)
		}
	})
}

var regexpPSSH = regexp.MustCompile(`<cenc:pssh>[^<]*</cenc:pssh>`)

// TestEvidenceOverHTTP: a remote manifest gives the same evidence, with files named relative
// to the manifest.
func TestEvidenceOverHTTP(t *testing.T) {
	dir := fixture(t, false)
	ts := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer ts.Close()
	for _, name := range []string{"manifest.mpd", "master.m3u8", "download/video.mp4"} {
		t.Run(name, func(t *testing.T) {
			rep := signallingOnly(t, ts.URL+"/"+name+"?sig=abc", ts.Client())
			ev := rep.Evidence()
			if len(ev.Presentations) != 1 {
				t.Fatalf("%+v", ev.Presentations)
			}
			p := ev.Presentations[0]
			if len(p.Signals) == 0 || len(p.KIDs) == 0 || p.Location != name {
				t.Fatalf("%+v", p)
			}
			for _, s := range p.Signals {
				if s.Place == devices.PlaceInit && !strings.HasPrefix(s.Location, "c") && !strings.HasPrefix(s.Location, "download/") {
					t.Fatalf("init segment named %q, want its path relative to the manifest", s.Location)
				}
			}
		})
	}
}

// TestReadinessOfOwnPackage: a fresh Satchel package verifies with a readiness matrix in every
// rendering. Only what no packaging change may flip is asserted: desktop Chrome is never ready,
// the cbcs HLS with session keys is ready for FairPlay, and every not-ready row says what was
// found and how to fix it.
func TestReadinessOfOwnPackage(t *testing.T) {
	dir, res := packaged(t)
	rep, err := Verify(context.Background(), Input{Path: dir, Keys: res.Keys, Policy: policy.Preset(policy.PresetRental48h),
		PolicySource: "policy.json"})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Readiness
	if m == nil || len(m.Rows) != len(devices.Profiles()) {
		t.Fatalf("readiness %+v", m)
	}
	for _, r := range m.Rows {
		switch {
		case r.Device == devices.ChromeDesktop && r.Verdict != devices.NotReady,
			r.Device == devices.AppleFairPlay && r.Verdict != devices.Ready:
			t.Errorf("%s: %s %+v", r.Device, r.Verdict, r.Findings)
		}
		for _, f := range r.Findings {
			if f.Evidence == "" || f.Fix == "" || f.Source == "" {
				t.Errorf("%s %s: a finding without evidence, fix or source: %+v", r.Device, f.Rule, f)
			}
		}
	}
	var text, html, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Offline readiness (policy \"Offline rental 48 h\")") ||
		!strings.Contains(text.String(), "✕ chrome-desktop") {
		t.Errorf("text report has no matrix:\n%s", text.String())
	}
	if !strings.Contains(html.String(), "<h2>Offline readiness</h2>") || !strings.Contains(html.String(), "chrome-desktop-no-persistent-license") {
		t.Error("HTML report has no matrix")
	}
	if !strings.Contains(js.String(), `"readiness": {`) || !strings.Contains(js.String(), `"verdict": "not-ready"`) {
		t.Error("JSON report has no matrix")
	}
}
