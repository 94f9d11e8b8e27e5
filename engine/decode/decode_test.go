package decode

import (
	"context"
	"math/rand"
	"testing"

	"satchel/engine/probe"
)

const media = "../../testdata/media/"

// feed decodes every sample of each track of a test file, corrupting samples with mutate.
func feed(t *testing.T, path string, mutate func(kind string, i int, b []byte)) map[string]Result {
	t.Helper()
	f, err := probe.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]Result{}
	for _, trak := range f.Moov().Traks {
		se := trak.Mdia.Minf.Stbl.Stsd.Children[0]
		s, err := StreamFor(se, se.Type())
		if err != nil {
			t.Fatal(err)
		}
		d, err := Start(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		samples, err := f.Samples(trak.Tkhd.TrackID)
		if err != nil {
			t.Fatal(err)
		}
		kind := trak.Mdia.Hdlr.HandlerType
		for i, smp := range samples {
			b := make([]byte, smp.Size)
			if _, err := f.F.ReadAt(b, int64(smp.Offset)); err != nil {
				t.Fatal(err)
			}
			if mutate != nil {
				mutate(kind, i, b)
			}
			if err := d.Write(b, smp.Sync); err != nil {
				t.Fatal(err)
			}
		}
		res, err := d.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = res
	}
	return out
}

func TestCleanMediaDecodes(t *testing.T) {
	for _, name := range []string{"ladder_240p.mp4", "hevc_720p.mp4"} {
		t.Run(name, func(t *testing.T) {
			for kind, r := range feed(t, media+name, nil) {
				if !r.OK() {
					t.Errorf("%s: %s", kind, r)
				}
			}
		})
	}
}

// TestScrambledMediaFails mimics a wrong key: the bytes after the first 32 of every sample
// (slice data, AAC payload) are replaced by noise.
func TestScrambledMediaFails(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	res := feed(t, media+"ladder_240p.mp4", func(kind string, i int, b []byte) {
		if len(b) > 32 && i%3 == 0 {
			rng.Read(b[32:])
		}
	})
	for kind, r := range res {
		if r.OK() {
			t.Errorf("%s: scrambled samples decoded cleanly: %s", kind, r)
		}
	}
}

func TestSyncOnlyDecodes(t *testing.T) {
	f, err := probe.Open(context.Background(), media+"ladder_360p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	trak := f.Moov().Traks[0]
	se := trak.Mdia.Minf.Stbl.Stsd.Children[0]
	s, _ := StreamFor(se, se.Type())
	d, err := Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	samples, _ := f.Samples(trak.Tkhd.TrackID)
	for _, smp := range samples {
		if !smp.Sync {
			continue
		}
		b := make([]byte, smp.Size)
		f.F.ReadAt(b, int64(smp.Offset))
		d.Write(b, true)
	}
	r, err := d.Close()
	if err != nil || !r.OK() || r.Fed < 3 {
		t.Fatalf("sync samples only: %v %s", err, r)
	}
}

func TestADTSConfig(t *testing.T) {
	cfg, err := adtsConfig([]byte{0x11, 0x90}) // AAC-LC, 48 kHz, stereo
	if err != nil || cfg != [3]byte{1, 3, 2} {
		t.Fatalf("adtsConfig = %v, %v", cfg, err)
	}
	if _, err := adtsConfig([]byte{0x11}); err == nil {
		t.Fatal("short ASC accepted")
	}
}
