package db

import (
	"context"

	"github.com/uptrace/bun"
)

// A closure is part of what a site or a resource offers: adding, changing
// or removing one bumps the version of its site or resource, so that the
// copies replicas keep (calendar's site cache, the booking path's resource
// cache) notice it as they notice any other change. Triggers, like
// booking_seq's, so that no writer can forget.
func init() {
	sqlite := []string{}
	for _, t := range []struct{ table, owner, col string }{{"site_closures", "sites", "site_id"}, {"resource_closures", "resources", "resource_id"}} {
		for _, op := range []struct{ when, row string }{{"INSERT", "NEW"}, {"UPDATE", "NEW"}, {"DELETE", "OLD"}} {
			cond := "id = " + op.row + "." + t.col
			if op.when == "UPDATE" {
				cond += " OR id = OLD." + t.col
			}
			sqlite = append(sqlite, `CREATE TRIGGER `+t.table+`_version_`+op.when+` AFTER `+op.when+` ON `+t.table+` BEGIN
				UPDATE `+t.owner+` SET version = version + 1 WHERE `+cond+`; END`)
		}
	}
	pg := []string{
		`CREATE FUNCTION site_closures_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP <> 'INSERT' THEN UPDATE sites SET version = version + 1 WHERE id = OLD.site_id; END IF;
			IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.site_id <> OLD.site_id) THEN
				UPDATE sites SET version = version + 1 WHERE id = NEW.site_id;
			END IF;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER site_closures_bump_version AFTER INSERT OR UPDATE OR DELETE ON site_closures
			FOR EACH ROW EXECUTE FUNCTION site_closures_bump_version()`,
		`CREATE FUNCTION resource_closures_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP <> 'INSERT' THEN UPDATE resources SET version = version + 1 WHERE id = OLD.resource_id; END IF;
			IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.resource_id <> OLD.resource_id) THEN
				UPDATE resources SET version = version + 1 WHERE id = NEW.resource_id;
			END IF;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER resource_closures_bump_version AFTER INSERT OR UPDATE OR DELETE ON resource_closures
			FOR EACH ROW EXECUTE FUNCTION resource_closures_bump_version()`,
	}
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if IsSQLite(tx) {
				return execDDL(ctx, tx, sqlite...)
			}
			return execDDL(ctx, tx, pg...)
		})
	}
	down := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if IsSQLite(tx) {
				var drops []string
				for _, t := range []string{"site_closures", "resource_closures"} {
					for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
						drops = append(drops, `DROP TRIGGER `+t+`_version_`+op)
					}
				}
				return execDDL(ctx, tx, drops...)
			}
			return execDDL(ctx, tx,
				`DROP TRIGGER site_closures_bump_version ON site_closures`, `DROP FUNCTION site_closures_bump_version()`,
				`DROP TRIGGER resource_closures_bump_version ON resource_closures`, `DROP FUNCTION resource_closures_bump_version()`)
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
