package identity

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Names are the display names of users by id, for other domains that show
// who did something to those entitled to know (a site's calendar feed for
// its managers). Ids not found are absent.
func Names(ctx context.Context, idb bun.IDB, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var users []User
	if err := idb.NewSelect().Model(&users).Column("id", "name").Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read user names: %w", err)
	}
	for _, u := range users {
		out[u.ID] = u.Name
	}
	return out, nil
}
