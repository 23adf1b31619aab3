package devices_test

import (
	"testing"

	"github.com/relais-tierslieux/relais/devices/mqtttest"
)

// TestMain runs the tests four at once: they mostly wait on brokers and
// timers (see mqtttest.Main).
func TestMain(m *testing.M) { mqtttest.Main(m) }
