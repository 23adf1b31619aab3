package billing

import (
	"testing"

	"github.com/uptrace/bun"
)

// AccountsForTest gives the external tests of billing the accounts the
// internal ones use.
func AccountsForTest(t testing.TB, d *bun.DB) Accounts { return testAccounts(t, d) }
