package devices_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs up to four tests at once unless -test.parallel says
// otherwise: most of these tests wait on brokers, command timeouts and
// River's scheduler rather than the CPU, so the default (GOMAXPROCS, two on
// a small machine) leaves it idle. Four keeps the PostgreSQL connections of
// parallel tests well under the server's default limit.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "4")
	}
	os.Exit(m.Run())
}
