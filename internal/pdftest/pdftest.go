// Package pdftest reads back the text of the PDFs Relais writes (invoices,
// receipts, statements), for tests that check what a document says.
package pdftest

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"
)

// Text returns the strings the PDF's content streams show, in order,
// one per line, still in the font's code page (cp1252).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	var out []string
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			break
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("endstream"))
		if j < 0 {
			break
		}
		data := rest[:j]
		rest = rest[j:]
		if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				data = plain
			}
		}
		out = append(out, showStrings(data)...)
	}
	return strings.Join(out, "\n")
}

// showStrings extracts the literal strings of Tj operators.
func showStrings(content []byte) []string {
	var out []string
	for i := 0; i < len(content); i++ {
		if content[i] != '(' {
			continue
		}
		var s []byte
		j := i + 1
		for ; j < len(content) && content[j] != ')'; j++ {
			if content[j] == '\\' && j+1 < len(content) {
				j++
				switch content[j] {
				case 'r':
					s = append(s, '\r')
				case 'n':
					s = append(s, '\n')
				default:
					s = append(s, content[j])
				}
				continue
			}
			s = append(s, content[j])
		}
		if bytes.HasPrefix(bytes.TrimLeft(content[min(j+1, len(content)):], " "), []byte("Tj")) {
			out = append(out, string(s))
		}
		i = j
	}
	return out
}
