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
	bdb := dbtest.New(b)
	f := newFixture(b, bdb)
	svc := devices.New(bdb, devices.Config{Logger: mqtttest.Quiet()})
	env := mqtttest.StartEmbedded(b, svc)
	ctx := context.Background()
	type cred struct {
		d      *devices.Device
		secret string
	}
	creds := make([]cred, n)
	for i := range creds {
		d, secret, err := svc.Create(ctx, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "lock",
			Protocol: devices.ProtocolRelais, Address: uniqueAddress(devices.ProtocolRelais)})
		if err != nil {
			b.Fatal(err)
		}
		creds[i] = cred{d, secret}
	}
	addr := env.Broker.Addr()
	before := settledMemory(b)
	b.StartTimer()

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
		b.Fatal(err)
	}
	for _, c := range creds {
		eventually(b, "every device online", func() bool { on, known := svc.Online(c.d); return known && on })
	}
	b.StopTimer()
	after := settledMemory(b)
	per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / float64(n) / 1024 }
	b.ReportMetric(per(before.heap, after.heap), "heap-KiB/device")
	b.ReportMetric(per(before.stacks, after.stacks), "stack-KiB/device")
	b.ReportMetric(per(before.rss, after.rss), "RSS-KiB/device")
	b.ReportMetric((float64(after.goroutines)-float64(before.goroutines))/float64(n), "goroutines/device")
	for _, c := range clients {
		c.Close()
	}
}
