// Package stripetest runs stripe-mock, Stripe's official API mock, for
// tests. stripe-mock is a Go tool pinned in go.mod (`go get -tool
// github.com/stripe/stripe-mock@v0.203.0`), so it builds from the module
// cache without network access beyond the Go module proxy.
//
// stripe-mock checks the shape of requests and answers with fixtures: it
// keeps no state (any id "exists", idempotency keys are ignored) and sends
// no webhooks. Tests assert our own database, and sign events themselves.
package stripetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build returns the stripe-mock executable, built once per test process.
// `go tool -n` builds the pinned version (or finds it in the build cache)
// and prints its path.
func build() (string, error) {
	buildOnce.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "stripe-mock").Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				err = fmt.Errorf("%w: %s", err, ee.Stderr)
			}
			buildErr = fmt.Errorf("build stripe-mock (go tool -n stripe-mock): %w", err)
			return
		}
		binary = strings.TrimSpace(string(out))
	})
	return binary, buildErr
}

// shared is the package's one stripe-mock when its TestMain calls Main:
// stripe-mock keeps no state, so every test of a package can use the same
// one, and starting it (about a second) is paid once.
var shared struct {
	enabled bool
	once    sync.Once
	url     string
	err     error
	stop    func()
}

// Main runs a package's tests with one shared stripe-mock, started by the
// first Start and stopped when the tests end. Call it from TestMain:
//
//	func TestMain(m *testing.M) { stripetest.Main(m) }
func Main(m *testing.M) {
	shared.enabled = true
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// Start returns the base URL (StripeConfig.APIURL) of a running
// stripe-mock on a loopback port the system picks: the package's shared one
// under Main, else one for this test alone, stopped when it ends. A failure
// to start fails the test: it never skips.
func Start(t testing.TB) (apiURL string) {
	t.Helper()
	if !shared.enabled {
		url, stop, err := run()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		return url
	}
	shared.once.Do(func() { shared.url, shared.stop, shared.err = run() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.url
}

// run starts a stripe-mock and waits until it answers.
func run() (apiURL string, stop func(), err error) {
	bin, err := build()
	if err != nil {
		return "", nil, err
	}
	var (
		cmd    *exec.Cmd
		stdout io.ReadCloser
		stderr lockedBuffer
	)
	// Test binaries of several packages build and start stripe-mock at
	// once: while one `go tool` still has the cached executable open for
	// writing, another's exec fails with ETXTBSY (golang/go#22315). It
	// passes a moment later.
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		cmd = exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return "", nil, err
		}
		cmd.Stderr = &stderr
		err = cmd.Start()
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ETXTBSY) || wait > 3*time.Second {
			return "", nil, fmt.Errorf("start stripe-mock: %w", err)
		}
		time.Sleep(wait)
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}

	// stripe-mock prints "Listening for HTTP at address: 127.0.0.1:PORT"
	// once bound, then a line per request: keep reading so it never blocks.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, stdout)
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			stop()
			return "", nil, fmt.Errorf("stripe-mock exited before listening: %s", stderr.String())
		}
		apiURL = "http://" + a
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, fmt.Errorf("stripe-mock did not start within 30 s: %s", stderr.String())
	}
	if err := waitReady(apiURL, 10*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("stripe-mock at %s does not answer: %w; stderr: %s", apiURL, err, stderr.String())
	}
	return apiURL, stop, nil
}

func waitReady(apiURL string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/v1/balance", nil)
		req.Header.Set("Authorization", "Bearer sk_test_stripetest")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
