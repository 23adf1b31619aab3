package qr

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestVersionByCapacity: the byte-mode capacities at level M of ISO/IEC
// 18004 table 7, versions 1 to 10: the longest text of each version fits
// it (side 17 + 4 v modules), one byte more needs the next.
func TestVersionByCapacity(t *testing.T) {
	capacity := []int{14, 26, 42, 62, 84, 106, 122, 152, 180, 213}
	for i, n := range capacity {
		v := i + 1
		c, err := Code(strings.Repeat("a", n))
		if err != nil {
			t.Fatal(err)
		}
		if c.Size != 17+4*v {
			t.Errorf("%d bytes: side %d, want version %d (%d)", n, c.Size, v, 17+4*v)
		}
		if v < 10 {
			c, err := Code(strings.Repeat("a", n+1))
			if err != nil {
				t.Fatal(err)
			}
			if c.Size != 17+4*(v+1) {
				t.Errorf("%d bytes: side %d, want version %d", n+1, c.Size, v+1)
			}
		}
	}
	if _, err := Code(strings.Repeat("a", 214)); err == nil {
		t.Error("214 bytes encoded; want an error past version 10")
	}
}

// TestFormatAndFinders: the symbol carries the format information of
// level M with mask 0 — 101010000010010 once masked, ISO/IEC 18004
// annex C — in both of its copies, and the three finder patterns.
func TestFormatAndFinders(t *testing.T) {
	c, err := Code("https://relais.example/v1/calendar/0123456789abcdef.ics")
	if err != nil {
		t.Fatal(err)
	}
	bit := func(x, y int) byte {
		if c.Black(x, y) {
			return '1'
		}
		return '0'
	}
	// First copy, bits 14…0: along row 8 (skipping the timing column),
	// then up column 8 (skipping the timing row).
	var first []byte
	for _, x := range []int{0, 1, 2, 3, 4, 5, 7, 8} {
		first = append(first, bit(x, 8))
	}
	for _, y := range []int{7, 5, 4, 3, 2, 1, 0} {
		first = append(first, bit(8, y))
	}
	// Second copy: up column 8 from the bottom, then along row 8 on the right.
	var second []byte
	for y := c.Size - 1; y >= c.Size-7; y-- {
		second = append(second, bit(8, y))
	}
	for x := c.Size - 8; x < c.Size; x++ {
		second = append(second, bit(x, 8))
	}
	const want = "101010000010010"
	if string(first) != want || string(second) != want {
		t.Errorf("format information %s and %s, want %s", first, second, want)
	}
	if !c.Black(8, c.Size-8) {
		t.Error("the dark module is light")
	}
	finder := []string{"1111111", "1000001", "1011101", "1011101", "1011101", "1000001", "1111111"}
	for _, corner := range [][2]int{{0, 0}, {c.Size - 7, 0}, {0, c.Size - 7}} {
		for dy, row := range finder {
			for dx, want := range row {
				if got := bit(corner[0]+dx, corner[1]+dy); got != byte(want) {
					t.Fatalf("finder at %v: module (%d,%d) is %c", corner, dx, dy, got)
				}
			}
		}
	}
}

// TestSVG: a well-formed document whose path covers exactly the dark
// modules, with the quiet zone.
func TestSVG(t *testing.T) {
	text := "https://relais.example/v1/calendar/0123456789abcdef.ics"
	b, err := SVG(text)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ViewBox string `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	c, _ := Code(text)
	if side := c.Size + 8; doc.ViewBox != "0 0 "+itoa(side)+" "+itoa(side) {
		t.Errorf("viewBox %q", doc.ViewBox)
	}
	dark := 0
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Black(x, y) {
				dark++
			}
		}
	}
	// Each run "Mx yhNv1h-Nz" covers N modules.
	covered := 0
	for _, seg := range strings.Split(strings.TrimSuffix(doc.Path.D, "z"), "z") {
		var x, y, n, m int
		if _, err := fmtSscanf(seg, &x, &y, &n, &m); err != nil || n != m || x < 4 || y < 4 {
			t.Fatalf("segment %q: %v", seg, err)
		}
		covered += n
	}
	if covered != dark {
		t.Errorf("the path covers %d modules, the code has %d dark", covered, dark)
	}
}
