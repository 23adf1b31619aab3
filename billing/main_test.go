package billing

import (
	"testing"

	"github.com/relais-tierslieux/relais/internal/stripetest"
)

// One stripe-mock serves every test of the package (it keeps no state).
func TestMain(m *testing.M) { stripetest.Main(m) }
