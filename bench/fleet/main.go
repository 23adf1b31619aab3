// Command fleet measures one relais server under a fleet of N simulated
// door locks (issue 12): its memory and goroutines per connected device,
// its CPU while nothing happens, how long until the API shows every device
// online, unlock latency with N connected, and a reconnection storm.
//
//	go run ./bench/fleet -n 10000
//	go run ./bench/fleet -n 10000 -database-url 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./bench/fleet -n 1000 -mqtt-url tcp://127.0.0.1:18830   # e.g. bench/mosquitto-nodelay.sh
//
// Run it from the repository's root. It builds ./cmd/relais (or takes
// -relais PATH) and runs `relais serve` as a child process, so that the
// figures are the server's alone: a scratch SQLite file, or with
// -database-url a scratch schema of that PostgreSQL database (dropped at
// the end); HTTP and the embedded broker on free loopback ports; an admin
// given by flags; login rate limits off. The embedded broker keeps its
// default connection limits: the devices connect from many loopback
// addresses (127.1.x.y, 200 from each, under the 256 per address it
// allows); only its packet rate per client is lifted, so that the one
// door's thousands of confirmations a second are not paced by it. With
// -mqtt-url the server and the devices use that broker instead, and the
// fleet's retained presence is cleared from it at the end.
//
// Everything is provisioned through the HTTP API as an operator would: a
// site, a member with a 24/7 membership paid at the desk, one
// relais-protocol door run by devices/devicesim (a full simulated lock,
// so unlocks are confirmed), and N locks, half relais protocol and half
// Tasmota, registered by 8 concurrent requests. Each of the N is a bare
// MQTT 3.1.1 connection in this process (mqtttest.Raw, no goroutine while
// idle): CONNECT with the device's credentials and its Last Will,
// SUBSCRIBE to its command topic, PUBLISH its retained online presence;
// one goroutine pings all of them once per -keepalive.
//
// The run, and what it reports (one block; -json for JSON):
//   - the server's RSS (VmRSS) at start, once the devices are registered,
//     when all N are shown online, and 30 s later; per device: (connected
//     − registered) / N; go_goroutines from /metrics likewise; the
//     server's CPU over 10 s with nothing happening, before and with the
//     devices connected;
//   - the time from the first CONNECT until the site's device list (read
//     every -poll, as the member) shows all N online;
//   - POST /v1/doors/{id}/unlock as the member: 500 by one client and
//     2,000 by 16, each answer checked to be a confirmed 200: p50, p99, max;
//   - the storm: all N connections reset at once (the broker publishes
//     their Wills); the time until the list shows all N offline (or how
//     many still online after 20 s and 60 s); then all N reconnect at once,
//     and the time until all online (or how many missing after 60 s and
//     120 s); /healthz sampled every 50 ms throughout; RSS after;
//   - all N killed for good: how many still shown online 5 s and 20 s
//     later; presence writes the server dropped, when it counts them.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
)

type options struct {
	n           int
	databaseURL string
	mqttURL     string
	relais      string
	keepalive   time.Duration
	poll        time.Duration
	workers     int
	unlocks1    int
	unlocks16   int
	asJSON      bool
	keep        bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1000, "simulated devices (half relais protocol, half Tasmota)")
	flag.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL URL; the run uses a scratch schema in it (default: a scratch SQLite file)")
	flag.StringVar(&o.mqttURL, "mqtt-url", "", "external broker tcp://host:port for the server and the devices (default: the embedded broker)")
	flag.StringVar(&o.relais, "relais", "", "relais binary to run (default: build ./cmd/relais)")
	flag.DurationVar(&o.keepalive, "keepalive", 600*time.Second, "the devices' MQTT keepalive; each is pinged once per keepalive")
	flag.DurationVar(&o.poll, "poll", 200*time.Millisecond, "pause between two reads of the device list")
	flag.IntVar(&o.workers, "workers", 8, "concurrent registrations while provisioning")
	flag.IntVar(&o.unlocks1, "unlocks", 500, "unlocks by one client")
	flag.IntVar(&o.unlocks16, "unlocks16", 2000, "unlocks by 16 clients together")
	flag.BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch directory (the server's log, the SQLite file)")
	flag.Parse()
	if o.n < 1 || o.keepalive < time.Second || o.keepalive > 65535*time.Second {
		fmt.Fprintln(os.Stderr, "fleet: -n must be at least 1 and -keepalive between 1s and 65535s")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := run(ctx, o)
	if r != nil {
		if o.asJSON {
			b, _ := json.MarshalIndent(r, "", "  ")
			fmt.Println(string(b))
		} else {
			r.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// logf prints progress on stderr, so that stdout holds only the result.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s fleet: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run starts the server, provisions and starts the door, then runs the
// phases in order; each fills its part of the result, which is returned
// even when a later phase fails.
func run(ctx context.Context, o options) (*result, error) {
	runID := randomID()
	dir, err := os.MkdirTemp("", "relais-fleet-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		logf("scratch directory %s is kept", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.relais == "" {
		logf("building ./cmd/relais")
		if o.relais, err = buildRelais(ctx, dir); err != nil {
			return nil, err
		}
	}
	adminEmail, adminPass := "admin-"+runID+"@example.org", "fleet admin "+runID
	srv, err := startServer(ctx, serverConfig{binary: o.relais, dir: dir, databaseURL: o.databaseURL, mqttURL: o.mqttURL,
		adminEmail: adminEmail, adminPass: adminPass, runID: runID})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	r := &result{N: o.n, Database: srv.database, Broker: "embedded", Load: loadAverage(), Keepalive: o.keepalive.String(),
		Started: time.Now().UTC().Format(time.RFC3339)}
	if o.mqttURL != "" {
		r.Broker = o.mqttURL
	}
	logf("relais serve pid %d, %s, broker %s, log %s", srv.pid, srv.database, srv.devices, srv.logPath)
	hostPort, err := brokerHostPort(srv.devices)
	if err != nil {
		return nil, err
	}
	f := &fleetRun{o: o, srv: srv, c: newClient(srv.base, 64), r: r, hostPort: hostPort,
		keepalive: uint16(o.keepalive / time.Second)}
	// Let the server finish starting (migrations, jobs) before reading it.
	time.Sleep(2 * time.Second)
	if r.RSSStartMiB, err = rssMiB(srv); err != nil {
		return nil, err
	}

	if err := f.provision(ctx, &account{c: f.c, email: adminEmail, pw: adminPass}, runID); err != nil {
		return r, err
	}
	// The door, a full simulated lock that confirms unlocks.
	door, err := devicesim.Start(ctx, devicesim.Config{BrokerURL: srv.devices, Username: f.s.door.username, Password: f.s.door.secret,
		Protocol: devices.ProtocolRelais, SiteID: f.s.id, Address: f.s.door.address, Logger: mqtttest.Quiet()})
	if err != nil {
		return r, fmt.Errorf("start the door's simulator: %w", err)
	}
	defer door.Close()
	if err := waitDoor(ctx, f.c, f.s); err != nil {
		return r, err
	}

	pingCtx, stopPings := context.WithCancel(ctx)
	defer stopPings()
	go pinger(pingCtx, f.s.fleet, o.keepalive)
	defer func() {
		killAll(f.s.fleet)
		if o.mqttURL != "" {
			if err := clearRetained(hostPort, f.s.fleet); err != nil {
				logf("clearing the fleet's retained presence from %s: %v", o.mqttURL, err)
			}
		}
	}()

	if err := f.connect(ctx); err != nil {
		return r, err
	}
	logf("unlocks: %d by 1 client, %d by 16", o.unlocks1, o.unlocks16)
	r.Unlock1 = unlocks(ctx, f.c, f.s, 1, o.unlocks1)
	r.Unlock16 = unlocks(ctx, f.c, f.s, 16, o.unlocks16)
	if err := f.storm(ctx); err != nil {
		return r, err
	}
	if err := f.killForGood(ctx); err != nil {
		return r, err
	}
	return r, nil
}

// fleetRun is what the phases of a run share: the server, its API client,
// the provisioned site and its fleet, and the result they fill.
type fleetRun struct {
	o         options
	srv       *server
	c         *client
	s         *site
	r         *result
	hostPort  string
	keepalive uint16
}

// provision registers the site, the member, the door and the fleet through
// the API, then measures the server with the devices registered and none
// connected.
func (f *fleetRun) provision(ctx context.Context, admin *account, runID string) error {
	logf("provisioning %d devices", f.o.n)
	t0 := time.Now()
	s, err := provision(ctx, f.c, admin, f.o.n, f.o.workers, runID)
	if err != nil {
		return err
	}
	f.s = s
	r := f.r
	r.ProvisionSeconds, r.RegistrationsRetried = secs(time.Since(t0)), s.retried.Load()
	time.Sleep(2 * time.Second)
	if r.RSSRegisteredMiB, err = rssMiB(f.srv); err != nil {
		return err
	}
	r.GoroutinesRegistered = goroutines(ctx, f.c)
	if r.CPUIdleRegisteredPct, err = f.srv.cpuPercent(10 * time.Second); err != nil {
		return err
	}
	return nil
}

// connect connects the fleet, 64 devices at a time, each retrying as
// firmware does, until the API shows all online; then measures the server
// 30 s later and idle.
func (f *fleetRun) connect(ctx context.Context) error {
	o, r, s := f.o, f.r, f.s
	logf("connecting %d devices", o.n)
	t0 := time.Now()
	connectCtx, stopConnect := context.WithCancel(ctx)
	var st *connectStats
	connected := make(chan struct{})
	go func() {
		st = connectAll(connectCtx, s.fleet, f.hostPort, f.keepalive, 64)
		close(connected)
	}()
	w := watch(ctx, f.c, s, t0, o.poll, func(on int) bool { return on == o.n }, 180*time.Second)
	stopConnect()
	<-connected
	r.ConnectAttempts, r.ConnectFailures = st.attempts, st.failures
	r.AllOnlineSeconds, r.OnlineAfterConnect = w.seconds(), w.last
	if err := w.err; err != nil {
		return err
	}
	var err error
	if r.RSSConnectedMiB, err = rssMiB(f.srv); err != nil {
		return err
	}
	r.GoroutinesConnected = goroutines(ctx, f.c)
	logf("all online: %s (%d of %d); 30 s idle", orNever(r.AllOnlineSeconds, "180 s"), w.last, o.n)
	time.Sleep(30 * time.Second)
	if r.RSSConnected30sMiB, err = rssMiB(f.srv); err != nil {
		return err
	}
	if r.CPUIdleConnectedPct, err = f.srv.cpuPercent(10 * time.Second); err != nil {
		return err
	}
	r.RSSPerDeviceKiB = (r.RSSConnected30sMiB - r.RSSRegisteredMiB) * 1024 / float64(o.n)
	if r.GoroutinesConnected >= 0 && r.GoroutinesRegistered >= 0 {
		r.GoroutinesPerDevice = float64(r.GoroutinesConnected-r.GoroutinesRegistered) / float64(o.n)
	}
	return nil
}

// storm resets every connection at once and waits until the API shows all
// offline, then reconnects them all at once and waits until all online,
// with /healthz sampled throughout.
func (f *fleetRun) storm(ctx context.Context) error {
	o, r, s := f.o, f.r, f.s
	logf("storm: all %d connections reset", o.n)
	hctx, stopHealth := context.WithCancel(ctx)
	health := make(chan []time.Duration)
	go func() { health <- sampleHealth(hctx, f.srv.base, 50*time.Millisecond) }()
	t0 := time.Now()
	killAll(s.fleet)
	w := watch(ctx, f.c, s, t0, o.poll, func(on int) bool { return on == 0 }, 60*time.Second, 20*time.Second, 60*time.Second)
	r.StormAllOfflineSeconds, r.StormOnlineAt20s, r.StormOnlineAt60s = w.seconds(), w.at[0], w.at[1]
	if w.err != nil {
		stopHealth()
		<-health
		return w.err
	}
	logf("all offline: %s (%d still online); reconnecting all at once", orNever(r.StormAllOfflineSeconds, "60 s"), w.last)
	t0 = time.Now()
	connectCtx, stopConnect := context.WithCancel(ctx)
	var st *connectStats
	connected := make(chan struct{})
	go func() {
		st = connectAll(connectCtx, s.fleet, f.hostPort, f.keepalive, o.n)
		close(connected)
	}()
	w = watch(ctx, f.c, s, t0, o.poll, func(on int) bool { return on == o.n }, 120*time.Second, 60*time.Second, 120*time.Second)
	stopConnect()
	<-connected
	stopHealth()
	lat := <-health
	r.StormReconnectAttempts, r.StormReconnectFailures = st.attempts, st.failures
	if e, ok := st.lastErr.Load().(error); ok {
		r.LastConnectError = e.Error()
	}
	r.StormAllOnlineSeconds = w.seconds()
	r.StormMissingAt60s, r.StormMissingAt120s = missing(o.n, w.at[0]), missing(o.n, w.at[1])
	r.Healthz = summarize(lat, 0, nil)
	if w.err != nil {
		return w.err
	}
	var err error
	if r.RSSAfterStormMiB, err = rssMiB(f.srv); err != nil {
		return err
	}
	r.GoroutinesAfterStorm = goroutines(ctx, f.c)
	logf("all online again: %s (%d of %d); killing all for good", orNever(r.StormAllOnlineSeconds, "120 s"), w.last, o.n)
	return nil
}

// killForGood kills every connection and counts the devices still shown
// online 5 s and 20 s later, and the presence writes the server dropped.
func (f *fleetRun) killForGood(ctx context.Context) error {
	r := f.r
	t0 := time.Now()
	killAll(f.s.fleet)
	for _, mark := range []time.Duration{5 * time.Second, 20 * time.Second} {
		time.Sleep(time.Until(t0.Add(mark)))
		on, err := countOnline(ctx, f.c, f.s)
		if err != nil {
			return err
		}
		r.KilledOnline = append(r.KilledOnline, on)
	}
	if v, ok, err := metric(ctx, f.c, "relais_device_presence_dropped_total"); err == nil && ok {
		r.PresenceDropped = int64(v)
	} else {
		r.PresenceDropped = -1
	}
	r.PresenceQueueFullLogged = countInFile(f.srv.logPath, "presence queue full")
	return nil
}

// watched is what watch saw: when the condition first held (a negative
// duration if never), the count at each mark, the last count.
type watched struct {
	took time.Duration
	at   []int
	last int
	err  error
}

func (w watched) seconds() *float64 {
	if w.took < 0 {
		return nil
	}
	return secs(w.took)
}

// watch reads the device list every poll from t0 until done(online) holds
// or limit has passed since t0, noting the count at each mark (-1 for a
// mark after the condition held).
func watch(ctx context.Context, c *client, s *site, t0 time.Time, poll time.Duration, done func(int) bool, limit time.Duration, marks ...time.Duration) watched {
	w := watched{took: -1, at: make([]int, len(marks))}
	for i := range w.at {
		w.at[i] = -1
	}
	for {
		on, err := countOnline(ctx, c, s)
		if err != nil {
			w.err = err
			return w
		}
		el := time.Since(t0)
		w.last = on
		for i, m := range marks {
			if el >= m && w.at[i] < 0 {
				w.at[i] = on
			}
		}
		if done(on) {
			w.took = el
			return w
		}
		if el >= limit {
			return w
		}
		select {
		case <-ctx.Done():
			w.err = ctx.Err()
			return w
		case <-time.After(poll):
		}
	}
}

// missing turns a count online at a mark into the count missing (-1: the
// mark was not reached).
func missing(n, online int) int {
	if online < 0 {
		return -1
	}
	return n - online
}

func waitDoor(ctx context.Context, c *client, s *site) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		on, err := deviceOnline(ctx, c, s, s.door.id)
		if err != nil {
			return err
		}
		if on {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the door's simulator did not show online within 30 s")
}

// unlocks opens the door total times from clients goroutines, each waiting
// for its answer before sending the next, and checks every answer is a
// 200 with the lock's confirmation.
func unlocks(ctx context.Context, c *client, s *site, clients, total int) *latencies {
	var mu sync.Mutex
	var lat []time.Duration
	var failed int
	var firstErr error
	var wg sync.WaitGroup
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range total/clients + btoi(k < total%clients) {
				tok, err := s.member.bearer(ctx)
				var out struct {
					Granted, Confirmed bool
				}
				t := time.Now()
				if err == nil {
					err = c.call(ctx, "POST", "/v1/doors/"+s.door.id+"/unlock", tok, nil, 200, &out)
				}
				d := time.Since(t)
				if err == nil && !out.Confirmed {
					err = fmt.Errorf("unlock answered %+v, not confirmed", out)
				}
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return summarize(lat, failed, firstErr)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sampleHealth times GET /healthz every interval (on its own connection)
// until ctx ends; a request that fails counts as its time until failing.
func sampleHealth(ctx context.Context, base string, every time.Duration) []time.Duration {
	c := newClient(base, 1)
	var lat []time.Duration
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return lat
		case <-t.C:
		}
		t0 := time.Now()
		err := c.call(context.Background(), "GET", "/healthz", "", nil, 200, nil)
		lat = append(lat, time.Since(t0))
		if err != nil {
			logf("healthz: %v", err)
		}
	}
}

// latencies summarises timed requests.
type latencies struct {
	Count    int     `json:"count"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Maxms    float64 `json:"max_ms"`
	Failed   int     `json:"failed"`
	FirstErr string  `json:"first_error,omitempty"`
}

func summarize(lat []time.Duration, failed int, firstErr error) *latencies {
	l := &latencies{Count: len(lat), Failed: failed}
	if firstErr != nil {
		l.FirstErr = firstErr.Error()
	}
	if len(lat) == 0 {
		return l
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
	l.P50ms, l.P99ms, l.Maxms = q(0.50), q(0.99), ms(lat[len(lat)-1])
	return l
}

func (l *latencies) String() string {
	if l == nil {
		return "not measured"
	}
	s := fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.1f ms (%d", l.P50ms, l.P99ms, l.Maxms, l.Count)
	if l.Failed > 0 {
		s += fmt.Sprintf(", %d FAILED, first: %s", l.Failed, l.FirstErr)
	}
	return s + ")"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func secs(d time.Duration) *float64 {
	v := float64(d.Milliseconds()) / 1000
	return &v
}

func rssMiB(s *server) (float64, error) {
	b, err := s.rssBytes()
	return float64(b) / (1 << 20), err
}

// goroutines is the server's go_goroutines, -1 if it does not expose it.
func goroutines(ctx context.Context, c *client) int {
	v, ok, err := metric(ctx, c, "go_goroutines")
	if err != nil || !ok {
		return -1
	}
	return int(v)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func countInFile(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return strings.Count(string(b), s)
}

func randomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}
