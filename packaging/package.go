package packaging

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"golang.org/x/sync/errgroup"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/probe"
)

// Package runs a packaging job. Progress events arrive from several goroutines (one per
// rendition in flight); the callback must be safe for concurrent use. On error or
// cancellation nothing is left at cfg.OutDir.
func Package(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	ladder, audio, err := openSources(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range append(ladder, audio...) {
			s.file.Close()
		}
	}()
	pl, err := planTracks(ladder, audio, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Smooth {
		if err := checkSmoothTracks(pl.tracks); err != nil {
			return nil, err
		}
		if cfg.Keys, err = smoothKeys(cfg.Keys); err != nil {
			return nil, err
		}
	}
	keys, err := assignKeys(pl.tracks, cfg.Keys)
	if err != nil {
		return nil, err
	}
	if cfg.Smooth {
		if err := checkOneKey(pl.tracks); err != nil {
			return nil, err
		}
	}
	tmp, err := prepareOutDir(cfg.OutDir, cfg.Overwrite)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()

	p := &packager{cfg: cfg, plan: pl, dir: tmp, keys: keys, sigs: map[drm.Scheme]drm.Signalling{}, psshs: map[drm.Scheme][]*mp4.PsshBox{},
		renditions: map[drm.Scheme][]manifest.Rendition{}, progress: progress}
	for _, scheme := range cfg.Schemes {
		sig := cfg.signalling(scheme, keys)
		boxes, err := drm.PSSHBoxes(sig)
		if err != nil {
			return nil, err
		}
		p.sigs[scheme], p.psshs[scheme] = sig, boxes
	}
	if cfg.has(FormatMP4) {
		// The single-file download is cenc: PlayReady's offline download case (and Widevine).
		if p.downloadPSSH, err = drm.PSSHBoxes(cfg.signalling(drm.SchemeCENC, keys)); err != nil {
			return nil, err
		}
	}
	if err := p.runTracks(ctx, pl.tracks); err != nil {
		return nil, err
	}
	if err := p.writeManifests(); err != nil {
		return nil, err
	}
	files, err := listFiles(tmp)
	if err != nil {
		return nil, err
	}
	if err := commitOutDir(tmp, cfg.OutDir, cfg.Overwrite); err != nil {
		return nil, err
	}
	committed = true
	abs, _ := filepath.Abs(cfg.OutDir)
	res := &Result{OutDir: abs, Keys: keys, Files: files, Schemes: cfg.Schemes, Renditions: p.renditions[cfg.Schemes[0]],
		Warnings: pl.warnings, Notes: pl.notes}
	return res, nil
}

// packager holds the state shared by the rendition workers of one job.
type packager struct {
	cfg          Config
	plan         *plan
	dir          string
	keys         []drm.ContentKey
	sigs         map[drm.Scheme]drm.Signalling
	psshs        map[drm.Scheme][]*mp4.PsshBox
	downloadPSSH []*mp4.PsshBox
	progress     func(Progress)

	mu         sync.Mutex
	renditions map[drm.Scheme][]manifest.Rendition // per scheme
}

// runTracks packages the tracks on cfg.Concurrency workers; the first error cancels the rest.
func (p *packager) runTracks(ctx context.Context, tracks []*track) error {
	n := p.cfg.Concurrency
	if n <= 0 {
		n = runtime.NumCPU()
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	for _, t := range tracks {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := p.writeTrack(ctx, t); err != nil {
				p.progress(Progress{Rendition: t.id, Done: true, Err: err.Error()})
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// output is one CMAF track being written for one scheme.
type output struct {
	scheme drm.Scheme
	prot   *cenc.Protector
	rend   manifest.Rendition
}

// writeTrack writes t for every scheme, and for a video track also its single-file download.
func (p *packager) writeTrack(ctx context.Context, t *track) error {
	if t.kind == media.Text {
		return p.writeText(ctx, t)
	}
	f := t.src.file.F
	var outs []*output
	for _, scheme := range p.cfg.Schemes {
		rel := filepath.ToSlash(filepath.Join(string(scheme), t.id))
		if err := os.MkdirAll(filepath.Join(p.dir, rel), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", rel, err)
		}
		init, err := newInit(t, 1)
		if err != nil {
			return err
		}
		prot, err := cenc.ProtectInit(init, t.key, scheme, p.psshs[scheme])
		if err != nil {
			return err
		}
		if p.smoothOutput(scheme) {
			if err := cenc.AddPIFFInit(init, p.psshs[scheme]); err != nil {
				return err
			}
		}
		initRel := rel + "/" + manifest.FileInit
		if _, err := writeBoxes(filepath.Join(p.dir, initRel), init.Encode); err != nil {
			return err
		}
		if t.kind == media.Video && p.trickPlay() {
			trick := manifest.TrickDir(rel)
			if err := os.MkdirAll(filepath.Join(p.dir, trick), 0o755); err != nil {
				return fmt.Errorf("create %s: %w", trick, err)
			}
			if _, err := writeBoxes(filepath.Join(p.dir, trick, manifest.FileInit), init.Encode); err != nil {
				return err
			}
		}
		o := &output{scheme: scheme, prot: prot, rend: p.rendition(t, rel, initRel)}
		if p.smoothOutput(scheme) {
			st := *t.smooth
			o.rend.Smooth = &st
		}
		outs = append(outs, o)
	}
	var dl *download
	if t.kind == media.Video && p.cfg.has(FormatMP4) {
		var err error
		if dl, err = p.newDownload(t); err != nil {
			return err
		}
		defer dl.abort()
	}
	start := time.Now()
	var done int64
	last := time.Time{}
	nseg := len(t.cuts)
	for k := 0; k < nseg; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ss := t.segment(k)
		buf, n, err := sampleData(f, ss)
		if err != nil {
			return err
		}
		var dur uint64
		for _, s := range ss {
			dur += uint64(s.Dur)
		}
		consumers := len(outs)
		if dl != nil {
			consumers++
		}
		var first []byte // the segment's first (sync) sample, in the clear, for trick play
		if t.kind == media.Video && p.trickPlay() {
			first = append([]byte(nil), buf[:ss[0].Size]...)
		}
		for i, o := range outs {
			data := buf
			if i < consumers-1 {
				data = cloneBuf(buf)
			}
			frag, err := buildFragment(uint32(k+1), 1, ss, data)
			if err != nil {
				return err
			}
			if err := p.protectOutput(o, frag, ss[0].DecodeTime, dur, t.info.Timescale); err != nil {
				return err
			}
			seg := mp4.NewMediaSegment()
			seg.AddFragment(frag)
			rel := o.rend.Dir + "/" + manifest.SegmentName(k+1)
			size, err := writeBoxes(filepath.Join(p.dir, rel), seg.Encode)
			putBuf(data)
			if err != nil {
				return err
			}
			sg := manifest.Segment{Number: k + 1, Start: ss[0].DecodeTime, Duration: dur, Path: rel, Size: size}
			if t.kind == media.Video && !p.cfg.NoTrickPlay {
				sg.IFrame = iframeOf(seg, ss[0])
			}
			o.rend.Segments = append(o.rend.Segments, sg)
			if first != nil {
				if err := p.writeTrick(o, t, k, ss[0], dur, first); err != nil {
					return err
				}
			}
		}
		if dl != nil {
			err := dl.addSegment(k, ss, buf)
			putBuf(buf)
			if err != nil {
				return err
			}
		}
		done += n
		if now := time.Now(); now.Sub(last) > 100*time.Millisecond || k == nseg-1 {
			last = now
			ev := Progress{Rendition: t.id, Bytes: done, TotalBytes: t.bytes, Fragments: k + 1, TotalFragments: nseg, Done: k == nseg-1}
			if el := now.Sub(start); done > 0 && done < t.bytes {
				ev.ETA = time.Duration(float64(el) * float64(t.bytes-done) / float64(done))
			}
			p.progress(ev)
		}
	}
	if dl != nil {
		if err := dl.finish(); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range outs {
		o.rend.Bandwidth, o.rend.AvgBandwidth = bandwidth(o.rend)
		p.renditions[o.scheme] = append(p.renditions[o.scheme], o.rend)
	}
	return nil
}

// trickPlay reports whether DASH trick-play tracks are written.
func (p *packager) trickPlay() bool { return !p.cfg.NoTrickPlay && p.cfg.has(FormatDASH) }

// iframeOf locates the first sample of a one-fragment segment: the fragment's moof, the mdat
// header and the sample, which a player needs to decode it alone.
func iframeOf(seg *mp4.MediaSegment, first probe.Sample) *manifest.IFrame {
	frag := seg.Fragments[0]
	var offset uint64
	if seg.Styp != nil {
		offset = seg.Styp.Size()
	}
	return &manifest.IFrame{Offset: int64(offset), Size: int64(frag.Moof.Size() + frag.Mdat.HeaderSize() + uint64(first.Size)),
		Time: uint64(int64(first.DecodeTime) + int64(first.CTO))}
}

// writeTrick writes trick-play segment k of a video output: a fragment holding only the
// segment's first (sync) sample, lasting the whole segment, encrypted like the segment.
func (p *packager) writeTrick(o *output, t *track, k int, first probe.Sample, dur uint64, clear []byte) error {
	first.Dur = uint32(dur)
	frag, err := buildFragment(uint32(k+1), 1, []probe.Sample{first}, append([]byte(nil), clear...))
	if err != nil {
		return err
	}
	if err := p.protectOutput(o, frag, first.DecodeTime, dur, t.info.Timescale); err != nil {
		return err
	}
	seg := mp4.NewMediaSegment()
	seg.AddFragment(frag)
	rel := manifest.TrickDir(o.rend.Dir) + "/" + manifest.SegmentName(k+1)
	size, err := writeBoxes(filepath.Join(p.dir, rel), seg.Encode)
	if err != nil {
		return err
	}
	o.rend.Trick = append(o.rend.Trick, manifest.Segment{Number: k + 1, Start: first.DecodeTime, Duration: dur, Path: rel,
		Size: size})
	return nil
}

// rendition returns the manifest description of t (segments are added as written).
func (p *packager) rendition(t *track, dir, initRel string) manifest.Rendition {
	r := manifest.Rendition{ID: t.id, Kind: t.kind, Codecs: t.info.Codec, Language: t.lang, Timescale: t.info.Timescale,
		Dir: dir, InitPath: initRel, KID: t.key.KID, Name: t.name, Role: t.role, Default: t.def, Forced: t.forced, SDH: t.sdh}
	switch t.kind {
	case media.Video:
		r.Width, r.Height = t.info.Width, t.info.Height
		r.FrameRate = frameRate(t)
	case media.Audio:
		r.SampleRate, r.Channels, r.ChannelMap = t.info.SampleRate, t.info.Channels, t.info.ChannelMap
	case media.Text:
		r.Codecs, r.Timescale = "wvtt", textTimescale
	}
	return r
}

// frameRate expresses the constant frame rate as an integer or a ratio (30000/1001).
func frameRate(t *track) string {
	if len(t.samples) == 0 || t.samples[0].Dur == 0 {
		return ""
	}
	d := t.samples[0].Dur
	ts := t.info.Timescale
	if ts%d == 0 {
		return strconv.Itoa(int(ts / d))
	}
	return fmt.Sprintf("%d/%d", ts, d)
}

// bandwidth returns the peak and average bitrate over the segments (bits/s).
func bandwidth(r manifest.Rendition) (peak, avg int64) {
	var bytes, dur uint64
	for _, s := range r.Segments {
		bytes += uint64(s.Size)
		dur += s.Duration
		if s.Duration > 0 {
			if b := int64(float64(s.Size*8) * float64(r.Timescale) / float64(s.Duration)); b > peak {
				peak = b
			}
		}
	}
	if dur > 0 {
		avg = int64(float64(bytes*8) * float64(r.Timescale) / float64(dur))
	}
	return peak, avg
}

// writeManifests writes MPD/HLS per scheme, keys.cpix.xml and policy.json.
func (p *packager) writeManifests() error {
	for i, scheme := range p.cfg.Schemes {
		rends := p.renditions[scheme]
		order := map[string]int{}
		for _, t := range p.plan.tracks {
			order[t.id] = t.order
		}
		sort.SliceStable(rends, func(a, b int) bool {
			if rends[a].Kind == media.Video && rends[b].Kind == media.Video {
				return rends[a].Bandwidth < rends[b].Bandwidth
			}
			return order[rends[a].ID] < order[rends[b].ID]
		})
		pres := &manifest.Presentation{Scheme: scheme, Renditions: rends, Signalling: p.sigs[scheme], SegmentDuration: p.cfg.SegmentDuration}
		for _, r := range rends {
			if d := r.Duration(); d > pres.Duration {
				pres.Duration = d
			}
		}
		if p.smoothOutput(scheme) {
			if err := p.placeSmooth(rends); err != nil {
				return err
			}
			if err := p.writeSmooth(pres); err != nil {
				return err
			}
		}
		if p.cfg.has(FormatDASH) {
			name := manifest.FileMPD
			if i > 0 {
				name = manifest.FileMPDFor(scheme)
			}
			if err := writeBuffered(filepath.Join(p.dir, name), func(b *bytes.Buffer) error { return manifest.WriteMPD(b, pres) }); err != nil {
				return err
			}
		}
		if p.cfg.has(FormatHLS) {
			for _, r := range rends {
				if err := writeBuffered(filepath.Join(p.dir, r.Dir, manifest.FileHLSMedia), func(b *bytes.Buffer) error { return manifest.WriteHLSMedia(b, pres, r) }); err != nil {
					return err
				}
				if !r.IFrames() {
					continue
				}
				if err := writeBuffered(filepath.Join(p.dir, r.Dir, manifest.FileHLSIFrames), func(b *bytes.Buffer) error {
					return manifest.WriteHLSIFrames(b, pres, r)
				}); err != nil {
					return err
				}
			}
			// The master playlist points at cbcs (FairPlay needs SAMPLE-AES) when it was written.
			if scheme == drm.SchemeCBCS || len(p.cfg.Schemes) == 1 {
				uri := func(r manifest.Rendition) string { return r.Dir + "/" + manifest.FileHLSMedia }
				if err := writeBuffered(filepath.Join(p.dir, manifest.FileHLSMaster), func(b *bytes.Buffer) error { return manifest.WriteHLSMaster(b, pres, uri) }); err != nil {
					return err
				}
			}
		}
	}
	doc, err := drm.NewCPIX(p.sigs[p.cfg.Schemes[len(p.cfg.Schemes)-1]], p.cfg.ContentID)
	if err != nil {
		return err
	}
	if err := writeBuffered(filepath.Join(p.dir, manifest.FileKeys), func(b *bytes.Buffer) error { return drm.WriteCPIX(b, doc) }); err != nil {
		return err
	}
	if len(p.cfg.PolicyJSON) > 0 {
		if err := os.WriteFile(filepath.Join(p.dir, manifest.FilePolicy), p.cfg.PolicyJSON, 0o644); err != nil {
			return fmt.Errorf("write policy.json: %w", err)
		}
	}
	return nil
}

func writeBuffered(path string, fill func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// listFiles lists the package's files relative to dir.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list package: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// protect encrypts frag, or marks it clear when it starts inside the clear lead.
func (p *packager) protect(prot *cenc.Protector, frag *mp4.Fragment, start uint64, timescale uint32) error {
	if p.cfg.ClearLead > 0 && float64(start)/float64(timescale) < p.cfg.ClearLead.Seconds() {
		return cenc.MarkClear(frag)
	}
	return prot.EncryptFragment(frag)
}

// protectOutput protects a fragment of an output (p.protect) and gives a Smooth output's
// fragment its PIFF and tfxd boxes.
func (p *packager) protectOutput(o *output, frag *mp4.Fragment, start, dur uint64, timescale uint32) error {
	if err := p.protect(o.prot, frag, start, timescale); err != nil {
		return err
	}
	if p.smoothOutput(o.scheme) {
		return addSmoothBoxes(frag, start, dur)
	}
	return nil
}

// signalling returns the protection signalling of the package for one scheme.
func (c *Config) signalling(scheme drm.Scheme, keys []drm.ContentKey) drm.Signalling {
	return drm.Signalling{Scheme: scheme, Keys: keys, Systems: c.Systems, PlayReadyLAURL: c.PlayReadyLAURL,
		ClearKeyLAURL: c.ClearKeyLAURL, WidevineProvider: c.WidevineProvider, FairPlayKeyURI: c.FairPlayKeyURI,
		WidevineContentID: []byte(c.ContentID), AllKeys: !c.PerTrackInitData}
}
