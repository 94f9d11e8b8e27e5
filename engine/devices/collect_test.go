package devices

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/policy"
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
		if err := pu.SetUUID(hex.EncodeToString(piffPSSHUUID)); err != nil {
			t.Fatal(err)
		}
		init.Moov.AddChild(pu)
	}
	return init
}

func TestCollectFolder(t *testing.T) {
	dir := fixture(t, false)
	ev, err := Collect(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var locs []string
	for _, p := range ev.Presentations {
		locs = append(locs, p.Location+"="+string(p.Delivery)+":"+schemesText(&p))
		if len(p.Notes) > 0 {
			t.Errorf("%s notes: %v", p.Location, p.Notes)
		}
	}
	want := "manifest.mpd=dash:cenc master.m3u8=hls:cbcs download/video.mp4=download:cenc download/video_piff.mp4=download:cenc (PIFF 1.1 boxes)"
	if strings.Join(locs, " ") != want {
		t.Fatalf("presentations\n got %s\nwant %s", strings.Join(locs, " "), want)
	}
	dash, hls, dl, piff := ev.Presentations[0], ev.Presentations[1], ev.Presentations[2], ev.Presentations[3]
	if !slices.Equal(dash.KIDs, both) || dash.AudioTracks != 1 || len(dash.signals(drm.Widevine, PlaceMPD)) != 2 ||
		len(dash.signals(drm.Widevine, PlaceInit)) != 2 || len(dash.signals(drm.ClearKey, PlaceMPDDescriptor)) != 2 {
		t.Errorf("dash evidence %+v", dash)
	}
	if s := dash.signals(drm.Widevine, PlaceMPD)[0]; s.Kind != media.Video || len(s.KIDs) != 2 || s.Location != "manifest.mpd, Representation video cenc:pssh" {
		t.Errorf("widevine mpd signal %+v", s)
	}
	if len(hls.signals(drm.FairPlay, PlaceHLSSessionKey)) != 2 || len(hls.signals(drm.FairPlay, PlaceHLSKey)) != 2 ||
		hls.AudioTracks != 1 || hls.VideoWithoutAudio != 0 || hls.Dynamic || !slices.Contains(hls.KIDs, kAudio) {
		t.Errorf("hls evidence %+v", hls)
	}
	if s := dl.signals(drm.PlayReady, PlaceInit); len(s) != 1 || s[0].PlayReadyVersion != "4.2.0.0" || len(s[0].KIDs) != 2 {
		t.Errorf("download evidence %+v", dl)
	}
	if s := piff.signals(drm.PlayReady, PlacePIFF); !piff.PIFF || len(s) != 1 || len(s[0].KIDs) != 2 || !slices.Equal(piff.KIDs, []drm.KID{kVideo}) {
		t.Errorf("piff evidence %+v", piff)
	}
	init := ev.InitData()
	if !bytes.HasPrefix(init[drm.FairPlay], []byte("skd://")) || len(init[drm.Widevine]) == 0 || len(init[drm.PlayReady]) == 0 {
		t.Errorf("init data %v", init)
	}
	ev.Policy = policy.Preset(policy.PresetRental48h)
	m := Evaluate(*ev, nil)
	for _, r := range m.Rows {
		if (r.Verdict == Ready) == (r.Device == ChromeDesktop) {
			t.Errorf("%s: %s %+v", r.Device, r.Verdict, r.Findings)
		}
	}
}

// TestCollectPerRepresentationPSSH: PSSHs that name only their own representation's key
// make ExoPlayer's single offline license miss the audio key.
func TestCollectPerRepresentationPSSH(t *testing.T) {
	dir := fixture(t, true)
	ev, err := Collect(context.Background(), filepath.Join(dir, "manifest.mpd"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ev.Policy = policy.Preset(policy.PresetRental48h)
	r, _ := Evaluate(*ev, []ProfileID{AndroidL1}).Row(AndroidL1)
	if r.Verdict != NotReady || r.Findings[0].Rule != "exoplayer-one-key-set" ||
		!strings.Contains(r.Findings[0].Evidence, "manifest.mpd, Representation video cenc:pssh lists 1 of the 2 key IDs") {
		t.Fatalf("%+v", r)
	}
}

func TestCollectOverHTTP(t *testing.T) {
	dir := fixture(t, false)
	ts := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer ts.Close()
	for _, name := range []string{"manifest.mpd", "master.m3u8", "download/video.mp4"} {
		t.Run(name, func(t *testing.T) {
			ev, err := Collect(context.Background(), ts.URL+"/"+name+"?sig=abc", ts.Client())
			if err != nil {
				t.Fatal(err)
			}
			p := ev.Presentations[0]
			if len(p.Notes) > 0 || len(p.Signals) == 0 || len(p.KIDs) == 0 || p.Location != path.Base(name) {
				t.Fatalf("%+v", p)
			}
			for _, s := range p.Signals {
				if s.Place == PlaceInit && !strings.HasPrefix(s.Location, "c") && !strings.HasPrefix(s.Location, "video") {
					t.Fatalf("init segment named %q, want its path relative to the manifest", s.Location)
				}
			}
		})
	}
	ev, err := Collect(context.Background(), ts.URL+"/missing.mpd", ts.Client())
	if err != nil || len(ev.Presentations[0].Notes) == 0 || !strings.Contains(ev.Presentations[0].Notes[0], "HTTP 404") {
		t.Fatalf("missing manifest: %v %+v", err, ev)
	}
}

func TestCollectLiveAndBroken(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "live.mpd"), []byte(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"><Period/></MPD>`))
	writeFile(t, filepath.Join(dir, "broken.mpd"), []byte(`<MPD`))
	ev, err := Collect(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Presentations[1].Dynamic || len(ev.Presentations[0].Notes) == 0 {
		t.Fatalf("%+v", ev.Presentations)
	}
	r, _ := Evaluate(*ev, []ProfileID{AndroidL1}).Row(AndroidL1)
	if r.Verdict != NotReady {
		t.Fatalf("%+v", r)
	}
	if _, err := Collect(context.Background(), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "no MPD") {
		t.Fatalf("empty folder: %v", err)
	}
	if _, err := Collect(context.Background(), filepath.Join(dir, "nope"), nil); err == nil {
		t.Fatal("missing target accepted")
	}
}

func TestReadInitErrors(t *testing.T) {
	good := encodeInit(t, initSegment(t, media.Audio, contentKey(t, "AUDIO", kAudio, "88da852ae4fa2e1e36aeb2d5c94997b1"),
		drm.Signalling{Scheme: drm.SchemeCBCS, Keys: nil}))
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "no moov"},
		{"truncated moov", good[:len(good)-10], "truncated"},
		{"zero size", []byte{0, 0, 0, 0, 'f', 't', 'y', 'p'}, "size 0"},
		{"moof first", []byte{0, 0, 0, 8, 'm', 'o', 'o', 'f'}, "moof"},
		{"garbage moov", []byte{0, 0, 0, 16, 'm', 'o', 'o', 'v', 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff}, "moov"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := readInit(bytes.NewReader(c.b)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	info, err := readInit(bytes.NewReader(good))
	if err != nil || len(info.tracks) != 1 || info.tracks[0].scheme != drm.SchemeCBCS || info.tracks[0].kid != kAudio {
		t.Fatalf("good init: %+v %v", info, err)
	}
}

func FuzzReadInit(f *testing.F) {
	video := contentKey(f, "SD", kVideo, "00112233445566778899aabbccddeeff")
	sig := drm.Signalling{Scheme: drm.SchemeCENC, Keys: []drm.ContentKey{video}, Systems: []drm.System{drm.Widevine, drm.PlayReady}}
	f.Add(encodeInit(f, initSegment(f, media.Video, video, sig)))
	f.Add(encodeInit(f, piffInit(f, initSegment(f, media.Video, video, sig))))
	f.Add([]byte{0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 16})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := readInit(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, p := range info.pssh {
			// Every pssh kept is re-readable by the DRM parsers.
			if _, err := drm.DecodePSSHBytes(p.raw); err != nil {
				t.Fatalf("kept an unreadable pssh: %v", err)
			}
		}
	})
}

func FuzzDecodeDataURI(f *testing.F) {
	f.Add("data:text/plain;base64,AAAA")
	f.Add("data:text/plain;charset=UTF-16;base64," + base64.StdEncoding.EncodeToString([]byte("pro")))
	f.Add("data:,a%20b")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = decodeDataURI(s)
		k := keySignalInput(s)
		_, _ = keySignal(k, PlaceHLSKey, "x", "")
	})
}

// keySignalInput makes an HLS key tag of each DRM key format from fuzz input.
func keySignalInput(s string) manifest.KeyTag {
	formats := []string{drm.KeyFormatFairPlay, drm.KeyFormatPlayReady, drm.KeyFormatWidevine, drm.KeyFormatClearKey}
	return manifest.KeyTag{Method: "SAMPLE-AES", URI: s, KeyFormat: formats[len(s)%len(formats)]}
}
