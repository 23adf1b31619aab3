package billing

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
)

// AccountsForTest gives the external tests of billing the accounts the
// internal ones use.
func AccountsForTest(t testing.TB, d *bun.DB) *identity.Service { return testAccounts(t, d) }
