// Package qr draws a QR code as an SVG document, for the app to show a
// link a phone can scan (the calendar feed's) without a JavaScript
// library: the encoder is rsc.io/qr (byte mode for a URL, Reed-Solomon
// error correction at level M, the smallest version that holds the text);
// this package only draws its modules.
package qr

import (
	"bytes"
	"fmt"

	"rsc.io/qr"
)

// quiet is the margin around the symbol, in modules: 4, as the standard
// asks, or readers may not find the finder patterns.
const quiet = 4

// maxBytes is what version 10 at level M holds in byte mode: a feed URL is
// far shorter, and a larger symbol is hard to scan from a screen.
const maxBytes = 213

// Code encodes text at level M.
func Code(text string) (*qr.Code, error) {
	if len(text) > maxBytes {
		return nil, fmt.Errorf("qr: %d bytes, at most %d", len(text), maxBytes)
	}
	return qr.Encode(text, qr.M)
}

// SVG is text's QR code as an SVG document: one path of unit squares on a
// white square, scaled by the viewer (crispEdges keeps the modules sharp).
func SVG(text string) ([]byte, error) {
	c, err := Code(text)
	if err != nil {
		return nil, err
	}
	side := c.Size + 2*quiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, side, side)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if !c.Black(x, y) {
				continue
			}
			// A run of dark modules on the row is one rectangle.
			run := 1
			for c.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+quiet, y+quiet, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}
