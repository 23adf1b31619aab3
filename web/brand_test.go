package web

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func brandDir(t *testing.T, css string, logo []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "brand.css"), []byte(css), 0o600); err != nil {
		t.Fatal(err)
	}
	if logo != nil {
		if err := os.WriteFile(filepath.Join(dir, "logo.png"), logo, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBrand: a tiers lieu's colours and logo are served in place of the
// empty brand.css, and make a new release for the service worker.
func TestBrand(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler(fakeAPI)
	if b := body(t, get(t, h, "GET", "/static/css/brand.css", nil)); strings.Contains(b, "--brand:") {
		t.Fatalf("the default brand.css sets colours: %s", b)
	}
	before := a.Version
	css := "/* La Case */\n:root {\n  --brand: #5a1e6e; /* violet */\n  --brand-strong: #3d1449;\n}\n"
	if err := a.UseBrand(brandDir(t, css, pngBytes(t))); err != nil {
		t.Fatal(err)
	}
	b := body(t, get(t, h, "GET", "/static/css/brand.css", nil))
	for _, want := range []string{"--brand: #5a1e6e;", "--brand-strong: #3d1449;", `url("/static/brand/logo.png")`} {
		if !strings.Contains(b, want) {
			t.Errorf("brand.css lacks %s:\n%s", want, b)
		}
	}
	if res := get(t, h, "GET", "/static/brand/logo.png", nil); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Errorf("the logo: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if a.Version == before {
		t.Error("a brand keeps the release's version")
	}
}

// TestBrandRefuses: anything but colours, an unknown property, a contrast
// under 4.5:1, a logo that is not a PNG.
func TestBrandRefuses(t *testing.T) {
	tests := []struct {
		name, css string
		logo      []byte
		want      string
	}{
		{"another property", ":root {\n  --brand: #5a1e6e;\n  background: url(https://evil.example/x.png);\n}\n", nil, "line 3"},
		{"an unknown custom property", ":root { \n--font: #000000;\n}", nil, "--font is not one of"},
		{"a named colour", ":root {\n--brand: red;\n}", nil, "line 2"},
		{"white on yellow", ":root {\n--brand: #f2e205;\n}", nil, "--on-brand (#ffffff) on --brand (#f2e205)"},
		{"a logo that is not a PNG", ":root {\n--brand: #5a1e6e;\n}", []byte("<svg onload=alert(1)>"), "not a PNG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New()
			if err != nil {
				t.Fatal(err)
			}
			err = a.UseBrand(brandDir(t, tt.css, tt.logo))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UseBrand: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
