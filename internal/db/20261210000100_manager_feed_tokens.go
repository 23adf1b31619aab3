package db

// A feed URL for a site's or a resource's calendar (issue 17): the
// managers' feeds needed a bearer header that calendar apps cannot send.
// A calendar token now names what it opens: neither column set is the
// member's own feed (as before), site_id alone a site's, resource_id (with
// its site_id) a resource's.
func init() {
	up := ddl(
		`ALTER TABLE calendar_tokens ADD COLUMN site_id TEXT REFERENCES sites (id)`,
		`ALTER TABLE calendar_tokens ADD COLUMN resource_id TEXT REFERENCES resources (id)`,
		`CREATE INDEX calendar_tokens_user_idx ON calendar_tokens (user_id, site_id, resource_id)`,
	)
	down := ddl(
		`DROP INDEX calendar_tokens_user_idx`,
		`ALTER TABLE calendar_tokens DROP COLUMN resource_id`,
		`ALTER TABLE calendar_tokens DROP COLUMN site_id`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
