package web

import (
	"bufio"
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// brandColours are the custom properties of static/css/theme.css a tiers
// lieu may set: colours only, nothing that could change the layout or
// load anything.
var brandColours = map[string]bool{
	"--brand": true, "--brand-strong": true, "--on-brand": true, "--accent": true, "--bg": true, "--surface": true,
	"--text": true, "--muted": true, "--border": true, "--focus": true, "--danger": true, "--danger-bg": true,
	"--success": true, "--success-bg": true, "--info-bg": true,
}

// defaults are theme.css's values, for the contrast checks of a brand
// that sets only some of them.
var defaults = map[string]string{
	"--brand": "#0b5f57", "--brand-strong": "#07443e", "--on-brand": "#ffffff", "--bg": "#f6f5f1", "--surface": "#ffffff",
	"--text": "#1c1c1a", "--muted": "#575750", "--danger": "#a3161a", "--danger-bg": "#fdecec", "--success": "#1d6b2a",
	"--success-bg": "#e8f5ea",
}

// contrasts are the pairs of text and background the app uses, and the
// WCAG 2.1 AA minimum for their text.
var contrasts = [][2]string{
	{"--on-brand", "--brand"}, {"--on-brand", "--brand-strong"}, {"--text", "--bg"}, {"--text", "--surface"},
	{"--muted", "--bg"}, {"--muted", "--surface"}, {"--brand", "--surface"}, {"--danger", "--danger-bg"},
	{"--success", "--success-bg"},
}

var (
	declaration = regexp.MustCompile(`^\s*(--[a-z-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;?\s*(/\*.*\*/)?\s*$`)
	ignorable   = regexp.MustCompile(`^\s*(:root\s*\{|\}|/\*.*\*/)?\s*$`)
)

// maxLogo keeps the header's mark small: it is fetched on every first visit.
const maxLogo = 100 << 10

// UseBrand takes a tiers lieu's colours from dir/brand.css (lines
// "--brand: #0b5f57;" inside ":root { … }", comments allowed; any other
// line is refused, so nothing but colours gets in) and its logo from
// dir/logo.png (optional, a PNG of at most 100 KB). Colours whose text
// would read under 4.5:1 on their background are refused, naming them.
func (a *App) UseBrand(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "brand.css"))
	if err != nil {
		return fmt.Errorf("brand: %w", err)
	}
	colours := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := declaration.FindStringSubmatch(line); m != nil {
			if !brandColours[m[1]] {
				return fmt.Errorf("brand.css line %d: %s is not one of the app's colours", n, m[1])
			}
			colours[m[1]] = strings.ToLower(m[2])
			continue
		}
		if !ignorable.MatchString(line) {
			return fmt.Errorf("brand.css line %d: only \"--name: #rrggbb;\" lines are allowed: %q", n, line)
		}
	}
	for _, pair := range contrasts {
		fg, bg := colourOf(colours, pair[0]), colourOf(colours, pair[1])
		if r := contrast(fg, bg); r < 4.5 {
			return fmt.Errorf("brand.css: %s (%s) on %s (%s) reads at %.1f:1, under the 4.5:1 of WCAG 2.1 AA", pair[0], fg, pair[1], bg, r)
		}
	}
	var css strings.Builder
	css.WriteString("/* The tiers lieu's colours (relais serve --brand-dir). */\n:root {\n")
	for _, name := range sortedKeys(colours) {
		fmt.Fprintf(&css, "  %s: %s;\n", name, colours[name])
	}
	css.WriteString("}\n")
	logo, err := os.ReadFile(filepath.Join(dir, "logo.png"))
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return fmt.Errorf("brand: %w", err)
	default:
		if len(logo) > maxLogo {
			return fmt.Errorf("brand: logo.png is %d bytes, at most %d", len(logo), maxLogo)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(logo)); err != nil {
			return fmt.Errorf("brand: logo.png is not a PNG: %w", err)
		}
		f, err := newFile(contentTypes[".png"], logo)
		if err != nil {
			return err
		}
		a.files["/static/brand/logo.png"] = f
		css.WriteString(".brand__mark { background-image: url(\"/static/brand/logo.png\"); }\n")
	}
	f, err := newFile(contentTypes[".css"], []byte(css.String()))
	if err != nil {
		return err
	}
	a.files["/static/css/brand.css"] = f
	// Another look, another release for the service worker.
	a.Version, err = a.withRelease()
	return err
}

func colourOf(colours map[string]string, name string) string {
	if c, ok := colours[name]; ok {
		return c
	}
	return defaults[name]
}

// contrast is WCAG 2.1's contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var rgb [3]float64
	for i := range rgb {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
