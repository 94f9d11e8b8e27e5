package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
)

const media = "../../testdata/media/"

func TestFileTree(t *testing.T) {
	nodes, err := File(context.Background(), media+"ladder_240p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"ftyp", "moov", "trak", "avcC", "stss", "mdat"} {
		if len(Find(nodes, typ)) == 0 {
			t.Errorf("box %s not found in tree", typ)
		}
	}
	var text bytes.Buffer
	if err := WriteText(&text, nodes); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "moov") {
		t.Errorf("text tree lacks moov:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, nodes); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON tree does not parse: %v", err)
	}
}

func TestProtectedInitDecoded(t *testing.T) {
	f, err := os.Open(media + "fragmented_360p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mf, err := mp4.DecodeFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if mf.Init == nil {
		t.Fatal("fragmented_360p.mp4 has no init segment")
	}
	// Keep only the video track so InitProtect's one-track contract holds.
	init := mp4.CreateEmptyInit()
	trak := init.AddEmptyTrack(mf.Init.Moov.Traks[0].Mdia.Mdhd.Timescale, "video", "und")
	trak.Mdia.Minf.Stbl.Stsd.AddChild(mf.Init.Moov.Traks[0].Mdia.Minf.Stbl.Stsd.Children[0])
	key, _ := drm.RandomContentKey(drm.TrackSD)
	pssh := drm.CommonPSSH([]drm.KID{key.KID})
	if _, err := mp4.InitProtect(init, key.Key[:], make([]byte, 16), "cbcs", mp4.UUID(key.KID[:]), []*mp4.PsshBox{pssh}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	nodes, err := Reader(context.Background(), bytes.NewReader(buf.Bytes()), "init.mp4")
	if err != nil {
		t.Fatal(err)
	}
	tenc := Find(nodes, "tenc")
	if len(tenc) != 1 || !strings.Contains(strings.Join(tenc[0].DRM, "\n"), key.KID.String()) {
		t.Fatalf("tenc not decoded with the KID %s: %+v", key.KID, tenc)
	}
	ps := Find(nodes, "pssh")
	if len(ps) != 1 || !strings.Contains(strings.Join(ps[0].DRM, "\n"), key.KID.String()) {
		t.Fatalf("pssh not decoded with the KID: %+v", ps)
	}
	if schm := Find(nodes, "schm"); len(schm) != 1 || !strings.Contains(strings.Join(schm[0].DRM, " "), "cbcs") {
		t.Fatalf("schm not explained: %+v", schm)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Reader(context.Background(), bytes.NewReader([]byte("not an mp4 at all")), "x.mp4"); err == nil {
		t.Fatal("text accepted as MP4")
	}
	b, _ := os.ReadFile(media + "ladder_240p.mp4")
	if _, err := Reader(context.Background(), bytes.NewReader(b[:len(b)/3]), "cut.mp4"); err == nil {
		t.Fatal("truncated file accepted without error")
	}
}

func FuzzReader(f *testing.F) {
	b, _ := os.ReadFile(media + "fragmented_360p.mp4")
	if len(b) > 4096 {
		f.Add(b[:4096])
	}
	f.Add([]byte{0, 0, 0, 8, 'f', 't', 'y', 'p'})
	f.Fuzz(func(t *testing.T, data []byte) {
		nodes, err := Reader(context.Background(), bytes.NewReader(data), "fuzz.mp4")
		if err == nil {
			_ = WriteText(&bytes.Buffer{}, nodes)
		}
	})
}
