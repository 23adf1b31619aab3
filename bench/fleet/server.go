package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the scratch schema
)

// server is `relais serve` running as a child process, so that its memory
// and CPU are read apart from the simulated devices'.
type server struct {
	cmd      *exec.Cmd
	pid      int
	base     string // http://127.0.0.1:port
	devices  string // tcp://host:port where the devices connect
	logPath  string
	cleanup  []func()
	exited   chan struct{}
	exitErr  error
	database string // what the report names: sqlite or postgresql
}

// serverConfig is what startServer needs.
type serverConfig struct {
	binary      string
	dir         string // scratch directory: SQLite file, log
	databaseURL string // "" for a SQLite file in dir
	mqttURL     string // "" for the embedded broker
	adminEmail  string
	adminPass   string
	runID       string
}

// buildRelais builds ./cmd/relais (the working directory must be the
// repository's root, as for `go run ./bench/fleet`) into dir.
func buildRelais(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "relais")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/relais")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ./cmd/relais (run from the repository's root): %w", err)
	}
	return out, nil
}

// freePort asks the kernel for a loopback port nobody uses now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// scratchSchema creates an empty schema for this run on the PostgreSQL
// database of rawURL and returns the URL that puts relais in it (as
// bench/pgbench-booking.sh does) and a function that drops it.
func scratchSchema(ctx context.Context, rawURL, runID string) (string, func(), error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", rawURL, err)
	}
	schema := "fleet_" + runID
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "fleet: drop schema %s: %v\n", schema, err)
		}
		db.Close()
	}
	sep := "?"
	if strings.Contains(rawURL, "?") {
		sep = "&"
	}
	return rawURL + sep + "search_path=" + schema + ",public", drop, nil
}

// startServer starts `relais serve` on free loopback ports with a scratch
// database and waits until /readyz answers.
func startServer(ctx context.Context, c serverConfig) (*server, error) {
	s := &server{exited: make(chan struct{}), database: "sqlite"}
	dbURL := "sqlite:" + filepath.Join(c.dir, "relais.db")
	if c.databaseURL != "" {
		u, drop, err := scratchSchema(ctx, c.databaseURL, c.runID)
		if err != nil {
			return nil, err
		}
		dbURL, s.database = u, "postgresql"
		s.cleanup = append(s.cleanup, drop)
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--database-url", dbURL,
		"--http-addr", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--admin-email", c.adminEmail, "--admin-password", c.adminPass,
		"--auth-rate-limit", "0"}
	if c.mqttURL != "" {
		args = append(args, "--mqtt-url", c.mqttURL)
		s.devices = c.mqttURL
	} else {
		// Never :1883, where a Mosquitto may run. The embedded broker keeps
		// its default connection limits: the devices come from many
		// loopback addresses, fewer than 256 from each (sourceAddress).
		// Only its packet rate per client is lifted, as in the api unlock
		// benchmarks: the one door confirms thousands of unlocks a second,
		// which the default (100 packets/s, bursts of 1,000) would pace to
		// 50 a second, measuring the limit instead of relais. No other
		// client comes near it.
		mqttPort, err := freePort()
		if err != nil {
			return nil, err
		}
		args = append(args, "--mqtt-listen", "127.0.0.1:"+strconv.Itoa(mqttPort), "--mqtt-max-packet-rate", "1e9")
		s.devices = "tcp://127.0.0.1:" + strconv.Itoa(mqttPort)
	}
	s.logPath = filepath.Join(c.dir, "relais.log")
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("create the server's log: %w", err)
	}
	s.cmd = exec.Command(c.binary, args...)
	s.cmd.Dir = c.dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C on the bench reaches the server
	// through stop, after the devices are gone, not before.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		s.stop()
		return nil, fmt.Errorf("start %s: %w", c.binary, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.exitErr = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	s.base = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("relais serve exited (%v); see its log %s", s.exitErr, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("relais serve not ready within %s; see its log %s", within, s.logPath)
}

// stop ends the server (SIGTERM, then SIGKILL after 15 s) and drops its
// scratch schema.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	for _, f := range s.cleanup {
		f()
	}
}

// rssBytes is the server's resident memory (VmRSS).
func (s *server) rssBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, fmt.Errorf("read the server's status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no VmRSS in the server's status")
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime is the CPU the server has used so far, user and system.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0, fmt.Errorf("read the server's stat: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from the last ')'. utime and stime are fields 14 and 15,
	// so the 12th and 13th after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse the server's CPU times: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// cpuPercent is the server's CPU use over d, in percent of one core.
func (s *server) cpuPercent(d time.Duration) (float64, error) {
	before, err := s.cpuTime()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(d)
	after, err := s.cpuTime()
	if err != nil {
		return 0, err
	}
	return 100 * float64(after-before) / float64(time.Since(t0)), nil
}
