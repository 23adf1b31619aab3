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
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
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

// Start runs a stripe-mock for this test on ports the system picks on the
// loopback interface, waits until it answers and stops it when the test
// ends. It returns the HTTP base URL (StripeConfig.APIURL). A failure to
// start fails the test: it never skips.
func Start(t testing.TB) (apiURL string) {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

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
			t.Fatalf("stripe-mock exited before listening: %s", stderr.String())
		}
		apiURL = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("stripe-mock did not start within 30 s: %s", stderr.String())
	}
	if err := waitReady(apiURL, 10*time.Second); err != nil {
		t.Fatalf("stripe-mock at %s does not answer: %v; stderr: %s", apiURL, err, stderr.String())
	}
	return apiURL
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
