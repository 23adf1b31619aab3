package devices_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// memory is what the process holds at one moment.
type memory struct {
	heap       uint64 // bytes of heap objects, live or not yet swept
	stacks     uint64 // bytes of goroutine stacks
	rss        uint64 // resident set size (VmRSS)
	goroutines uint64
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
	{Name: "/sched/goroutines:goroutines"},
}

func readMemory(t testing.TB) memory {
	t.Helper()
	s := append([]metrics.Sample(nil), memSamples...)
	metrics.Read(s)
	return memory{heap: s[0].Value.Uint64(), stacks: s[1].Value.Uint64(), goroutines: s[2].Value.Uint64(), rss: vmRSS(t)}
}

// settledMemory collects garbage first: what the process keeps. Each
// collection halves the stacks that use less than a quarter of their size,
// as a running server's collections would over time.
func settledMemory(t testing.TB) memory {
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	return readMemory(t)
}

// vmRSS reads the process's resident set size from /proc/self/status.
func vmRSS(t testing.TB) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkBrokerMemory measures what an idle device costs the embedded
// broker: N devices log in with their own credentials (from 100 loopback
// addresses, 127.0.1.x, so that no per-address cap interferes), each with
// its Last Will, a subscription to its command topic and its retained
// presence, like a real device; then the process's heap, goroutine stacks
// and RSS are read again after a garbage collection. The clients are Raw
// connections without goroutines (about 1 KiB each of the test's own
// memory, included in the figures). See BENCHMARKS.md.
//
//	go test ./devices/ -run '^$' -bench 'BrokerMemory' -benchtime 1x
func BenchmarkBrokerMemory(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			for range b.N {
				benchBrokerMemory(b, n)
			}
		})
	}
}

func benchBrokerMemory(b *testing.B, n int) {
	b.StopTimer()
	before, after := idleDevicesMemory(b, n, b.StartTimer, b.StopTimer)
	per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / float64(n) / 1024 }
	b.ReportMetric(per(before.heap, after.heap), "heap-KiB/device")
	b.ReportMetric(per(before.stacks, after.stacks), "stack-KiB/device")
	b.ReportMetric(per(before.rss, after.rss), "RSS-KiB/device")
	b.ReportMetric((float64(after.goroutines)-float64(before.goroutines))/float64(n), "goroutines/device")
}

// TestIdleDeviceStacks guards the patch to mochi in third_party (see its
// PATCHES.md): an idle client's two goroutines must not keep the frames of
// a packet on their stacks, so that the runtime shrinks them to 4 and
// 2 KiB. With mochi as released they stay at about 23 KiB together.
func TestIdleDeviceStacks(t *testing.T) {
	const n = 300
	before, after := idleDevicesMemory(t, n, func() {}, func() {})
	perDevice := (float64(after.stacks) - float64(before.stacks)) / n / 1024
	t.Logf("goroutine stacks: %.1f KiB per idle device", perDevice)
	// 4 + 2 KiB with the patch (about 11 KiB under the race detector,
	// whose instrumentation grows the frames), 23 KiB without it either way.
	if perDevice > 16 {
		t.Errorf("an idle device costs %.1f KiB of goroutine stacks, want at most 16 (6 KiB, 11 under -race)", perDevice)
	}
}

// idleDevicesMemory logs n devices in to the embedded broker and returns
// the process's settled memory before and after; start and stop bracket
// the logins (a benchmark's timer).
func idleDevicesMemory(tb testing.TB, n int, start, stop func()) (before, after memory) {
	bdb := dbtest.New(tb)
	f := newFixture(tb, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	env := mqtttest.StartEmbedded(tb, svc)
	ctx := context.Background()
	type cred struct {
		d      *devices.Device
		secret string
	}
	creds := make([]cred, n)
	for i := range creds {
		d, secret, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "lock",
			Protocol: devices.ProtocolRelais, Address: uniqueAddress(devices.ProtocolRelais)})
		if err != nil {
			tb.Fatal(err)
		}
		creds[i] = cred{d, secret}
	}
	addr := env.Broker.Addr()
	before = settledMemory(tb)
	start()

	clients := make([]*mqtttest.Raw, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				c, err := mqtttest.DialRaw(addr, fmt.Sprintf("127.0.1.%d", 1+i%100))
				if err != nil {
					errs <- err
					continue
				}
				clients[i] = c
				d := creds[i].d
				presence, online, offline := devices.PresenceTopic(d)
				if err := c.Connect(d.Username, d.Username, creds[i].secret, 0, &mqtttest.Will{Topic: presence, Payload: offline, Retain: true}); err != nil {
					errs <- err
					continue
				}
				if _, err := c.Subscribe(1, devices.DeviceACL(d).Read...); err != nil {
					errs <- err
					continue
				}
				if err := c.Publish(presence, online, true); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	for _, c := range creds {
		eventually(tb, "every device online", func() bool { on, known := svc.Online(c.d); return known && on })
	}
	stop()
	after = settledMemory(tb)
	for _, c := range clients {
		c.Close()
	}
	return before, after
}
