package simulate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"satchel/internal/golden"
)

// TestRenderGolden renders the classic scenarios under their own policies as text, SVG and
// JSON and compares them with reviewed golden files.
func TestRenderGolden(t *testing.T) {
	for _, name := range []string{PresetRental, PresetClockRollback, PresetStreamingOnly} {
		t.Run(name, func(t *testing.T) {
			p, _ := PresetByName(name)
			e := newEnv(t, p.Policy())
			tl := e.run(t, &Device{ID: "trainer-phone"}, name)
			tl.Scenario.Name = name
			var txt, svg bytes.Buffer
			if err := tl.WriteText(&txt); err != nil {
				t.Fatal(err)
			}
			if err := tl.WriteSVG(&svg); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(tl, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name+".txt", txt.Bytes())
			golden.Check(t, name+".svg", svg.Bytes())
			golden.Check(t, name+".json", append(js, '\n'))
			checkSVG(t, svg.Bytes(), tl)
			var back Timeline
			if err := json.Unmarshal(js, &back); err != nil || back.Scenario.String() != tl.Scenario.String() {
				t.Fatalf("timeline JSON does not read back: %v", err)
			}
		})
	}
}

// checkSVG parses the SVG as XML and counts the marks: one green dot per play that plays and
// one red cross per refusal, and labelled day ticks on the axis.
func checkSVG(t *testing.T, b []byte, tl *Timeline) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var dots, crosses, days int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			for _, a := range el.Attr {
				if a.Name.Local == "class" && a.Value == "ok" && el.Name.Local == "circle" {
					dots++
				}
				if a.Name.Local == "class" && a.Value == "no" && el.Name.Local == "g" {
					crosses++
				}
			}
		case xml.CharData:
			if strings.HasPrefix(string(el), "day ") {
				days++
			}
		}
	}
	var plays, refused int
	for _, l := range tl.Lanes {
		for _, m := range l.Marks {
			if m.Outcome == OutcomePlays {
				plays++
			} else {
				refused++
			}
		}
	}
	// The legend draws one dot and one cross too.
	if dots != plays+1 || crosses != refused || days == 0 {
		t.Fatalf("svg has %d dots, %d crosses, %d day labels; timeline has %d plays, %d refusals", dots, crosses, days, plays, refused)
	}
}
