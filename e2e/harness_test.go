//go:build browser

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
)

// relaisBin is the relais binary TestMain builds once for every test.
var relaisBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "relais-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	relaisBin = filepath.Join(dir, "relais")
	build := exec.Command("go", "build", "-o", relaisBin, "github.com/relais-tierslieux/relais/cmd/relais")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build relais:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// relais is one `relais serve` for a test, and the mail it sends.
type relais struct {
	URL  string // http://127.0.0.1:port, also its --public-url
	Mail *mailtest.Server
}

// startRelais runs `relais serve` as an operator would, on a fresh
// database (SQLite; a new schema of RELAIS_TEST_DATABASE_URL's PostgreSQL
// when it is set, as CI does for the manager's day), until the test ends.
// The database comes migrated (a copy of dbtest's template on SQLite): the
// first migration is cmd/relais's tests' subject, not the journeys'. Its
// address is chosen first so that it can be its public URL, the base of
// the links it mails.
func startRelais(t testing.TB, extra ...string) *relais {
	t.Helper()
	mail := mailtest.Start(t)
	// Before the process's cleanup, so that the schema is dropped after
	// relais has stopped.
	database := dbtest.MigratedURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &relais{URL: "http://" + addr, Mail: mail}

	cmd := exec.Command(relaisBin, "serve",
		"--http-addr", addr,
		"--public-url", r.URL,
		"--database-url", database,
		"--mqtt-listen", "127.0.0.1:0",
		"--smtp-url", mail.URL,
		"--mail-from", "Relais <relais@example.org>",
		// Each journey signs in often from one address.
		"--auth-rate-limit", "0")
	cmd.Args = append(cmd.Args, extra...)
	// Only this test's settings: none of the RELAIS_* of the environment.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELAIS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("relais serve said:\n%s", out.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := http.Get(r.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("relais serve stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("relais serve is not ready:\n%s", out.String())
		}
	}
}

// call calls the API as another client would (a Bearer token, or none),
// expects the status and decodes the answer into out (when not nil).
func (r *relais) call(t testing.TB, method, path, token string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// register makes an account through the API and returns its id.
func (r *relais) register(t testing.TB, name, email, password string) string {
	t.Helper()
	var u struct{ ID string }
	r.call(t, "POST", "/v1/auth/register", "", map[string]string{"name": name, "email": email, "password": password}, http.StatusCreated, &u)
	return u.ID
}

// login returns an access token.
func (r *relais) login(t testing.TB, email, password string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.call(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password}, http.StatusOK, &tok)
	return tok.AccessToken
}

// link waits for a mail to addr with a link that starts with prefix, and
// returns the link of the latest one. Other mails (the verification of a
// new account) may come before or after it.
func (r *relais) link(t testing.TB, addr, prefix string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(prefix) + `\S+`)
	var texts []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		all := r.Mail.All(addr)
		texts = texts[:0]
		for i := len(all) - 1; i >= 0; i-- {
			text := all[i].Text()
			if m := re.FindString(text); m != "" {
				return m
			}
			texts = append(texts, text)
		}
	}
	t.Fatalf("no link %s… in the mails to %s:\n%s", prefix, addr, strings.Join(texts, "\n---\n"))
	return ""
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// viewport is a screen the journeys run on.
type viewport struct {
	name          string
	width, height int64
}

var viewports = []viewport{{"phone", 360, 740}, {"desktop", 1280, 800}}

// chromium is the browser: RELAIS_CHROMIUM, else chromium from PATH.
func chromium(t testing.TB) string {
	if p := os.Getenv("RELAIS_CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the browser tests need Chromium (apt-get install chromium, or RELAIS_CHROMIUM): %v", err)
	}
	return p
}

// browser starts a headless Chromium, in French, for the test.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		// CI runs as root, where Chromium's sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// page is one tab with its own cookies, at a viewport's size.
type page struct {
	t   testing.TB
	ctx context.Context
	mu  sync.Mutex
	bad []string // uncaught exceptions and CSP violations
}

func newPage(t testing.TB, browserCtx context.Context, vp viewport) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	p := &page{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				p.mu.Lock()
				p.bad = append(p.bad, m.String())
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, b := range p.bad {
			t.Errorf("the page said: %s", b)
		}
	})
	p.do(chromedp.EmulateViewport(vp.width, vp.height))
	return p
}

// do runs the actions, each step given 15 s, and fails the test with what
// the page shows when one fails.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%v\nthe page shows:\n%s", err, p.text())
	}
}

// text is what the page shows, for failure messages.
func (p *page) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// eval evaluates a JavaScript expression (a promise is awaited).
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v\nthe page shows:\n%s", expr, err, p.text())
	}
	return v
}

// open loads a URL and waits for the app to show a page heading.
func (p *page) open(url string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// waitHeading waits until the page's h1 says want.
func (p *page) waitHeading(want string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`(document.querySelector("main h1") || {}).textContent === %q`, want), "the heading "+want)
}

// waitText waits until the element sel shows a text containing want.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`[...document.querySelectorAll(%q)].some((e) => e.textContent.includes(%q))`, sel, want),
		fmt.Sprintf("%s saying %q", sel, want))
}

func (p *page) waitJS(predicate, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s: %v\nthe page shows:\n%s", what, err, p.text())
	}
}

// fill types value into the field labelled label, as a person would:
// the label must name the field (a screen reader says the same).
func (p *page) fill(label, value string) {
	p.t.Helper()
	id := eval[string](p, fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll("label")].find((l) => l.textContent.replace(/\s*\*$/, "") === %q);
		return l ? l.htmlFor : "";
	})()`, label))
	if id == "" {
		p.t.Fatalf("no field labelled %q\nthe page shows:\n%s", label, p.text())
	}
	p.do(chromedp.SendKeys(chromedp.ID(id), value))
}

// click clicks the button or link whose text is text.
func (p *page) click(text string) {
	p.t.Helper()
	// The page's own controls first: a page's "Réserver" button, not the
	// navigation's "Réserver" link, which comes before it in the document.
	sel := fmt.Sprintf(`((text) => { const find = (s) => [...document.querySelectorAll(s)].find((e) => e.textContent.trim() === text);
		return find("main button, main a") || find("header button, nav a"); })(%q)`, text)
	if !eval[bool](p, sel+` !== undefined`) {
		p.t.Fatalf("nothing to click saying %q\nthe page shows:\n%s", text, p.text())
	}
	p.do(chromedp.Click(chromedp.JSPath(sel)))
}
