package csvsafe

import (
	"bytes"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		// Formulas and what leads a spreadsheet to one.
		{`=HYPERLINK("http://x")`, `'=HYPERLINK("http://x")`},
		{`+cmd|' /C calc'!A0`, `'+cmd|' /C calc'!A0`},
		{`@SUM(1+1)`, `'@SUM(1+1)`},
		{`-2+3`, `'-2+3`},
		{"\t=1+1", "'\t=1+1"},
		{"\tAnne", "'\tAnne"},
		{"\r=1+1", "'\r=1+1"},
		{"\n=1+1", "'\n=1+1"},
		{"\x00=1+1", "'\x00=1+1"},
		{" =1+1", "' =1+1"},
		{"\u00a0@SUM(A1)", "'\u00a0@SUM(A1)"},
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"-", "'-"},
		{"-12,50 €", "'-12,50 €"},
		{"+33612345678", "'+33612345678"},
		// Numbers Relais writes stay numbers.
		{"-12,50", "-12,50"},
		{"-1200", "-1200"},
		{"3.5", "3.5"},
		{"0", "0"},
		// Text that starts harmlessly is left alone.
		{"", ""},
		{"Anne Dupont", "Anne Dupont"},
		{"anne=1@example.fr", "anne=1@example.fr"},
		{"2026-03-09T10:00:00Z", "2026-03-09T10:00:00Z"},
		{"'=already quoted", "'=already quoted"},
		{"Zoé -1", "Zoé -1"},
	} {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriterProtectsEveryCell(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, ';', true)
	record := []string{"=1+1", "-20,83", "a;b", "line\nbreak"}
	if err := w.Write(record); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if record[0] != "=1+1" {
		t.Fatalf("Write changed the caller's record: %q", record)
	}
	if !strings.HasSuffix(buf.String(), "\r\n") {
		t.Fatalf("no CRLF: %q", buf.String())
	}
	r := csv.NewReader(&buf)
	r.Comma = ';'
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=1+1", "-20,83", "a;b", "line\nbreak"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("read back %q, want %q", got, want)
	}
}

// TestOnlyWriterWritesCSV keeps every CSV export on Writer: a package that
// makes its own encoding/csv writer would skip Cell.
func TestOnlyWriterWritesCSV(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			if abs, _ := filepath.Abs(path); abs == self {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		if bytes.Contains(src, []byte("csv.NewWriter(")) {
			t.Errorf("%s writes CSV with encoding/csv: use csvsafe.NewWriter, which protects every cell", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: the walk missed the module", checked)
	}
}
