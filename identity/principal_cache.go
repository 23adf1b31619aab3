package identity

import "time"

// DefaultPrincipalCacheTTL bounds how long a verified access token's
// principal is reused without reading its session again. Changes made
// through this process (logout, a disabled or deleted account, a role or
// manager change, a password change) clear the cache at once; changes made
// through another replica take effect within this delay.
const DefaultPrincipalCacheTTL = 2 * time.Second

// principalCacheMax caps the entries kept; past it the cache starts afresh.
const principalCacheMax = 10000
