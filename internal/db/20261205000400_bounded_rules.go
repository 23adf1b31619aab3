package db

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"
)

// Booking rules and plan quotas are bounded from now on, and a resource's
// max_minutes of 0 no longer means "no limit" but its kind's default (a day
// of a desk, a zone's seat or a room; eight hours of a machine). This
// rewrites the rows written before: max_minutes 0 becomes that default
// (never below the resource's min_minutes), and values past the new bounds
// — which nothing refused until now, and which overflowed a duration into
// "no rule" — are brought down to them. A value past a bound and the bound
// itself mean the same for every reservation the bounds allow, so nothing
// else changes. The bounds are stated here rather than taken from calendar
// and billing, so that later changes to those cannot rewrite this step.
func init() {
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := boundJSONColumn(ctx, tx, "resources", "rules", "kind", boundRules); err != nil {
				return err
			}
			return boundJSONColumn(ctx, tx, "plans", "includes", "kind", boundIncludes)
		})
	}
	// The rows keep their bounded values: the code before this step reads
	// them as it read any value a manager gave.
	down := func(context.Context, *bun.DB) error { return nil }
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}

// boundJSONColumn rewrites the JSON object in column of every row of table
// that fix changes; fix gets the object and the row's kind column.
func boundJSONColumn(ctx context.Context, tx bun.Tx, table, column, kindColumn string, fix func(obj map[string]any, kind string) bool) error {
	type row struct{ id, kind, doc string }
	var rows []row
	rs, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT id, %s, CAST(%s AS TEXT) FROM %s", kindColumn, column, table))
	if err != nil {
		return fmt.Errorf("read %s.%s: %w", table, column, err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.kind, &r.doc); err != nil {
			rs.Close()
			return fmt.Errorf("read %s.%s: %w", table, column, err)
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read %s.%s: %w", table, column, err)
	}
	for _, r := range rows {
		dec := json.NewDecoder(bytes.NewReader([]byte(r.doc)))
		dec.UseNumber() // 2^62 must stay itself to be compared
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || obj == nil {
			continue // not an object: nothing of ours to bound
		}
		if !fix(obj, r.kind) {
			continue
		}
		doc, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode %s.%s of %s: %w", table, column, r.id, err)
		}
		q := fmt.Sprintf("UPDATE %s SET %s = ? WHERE id = ?", table, column)
		if table == "resources" {
			// The replicas' caches of resources notice a change by its version.
			q = "UPDATE resources SET rules = ?, version = version + 1 WHERE id = ?"
		}
		if _, err := tx.ExecContext(ctx, q, string(doc), r.id); err != nil {
			return fmt.Errorf("bound %s.%s of %s: %w", table, column, r.id, err)
		}
	}
	return nil
}

// jsonInt reads an integer member of obj; absent or not an integer is 0.
func jsonInt(obj map[string]any, key string) int64 {
	n, ok := obj[key].(json.Number)
	if !ok {
		return 0
	}
	i, err := n.Int64()
	if err != nil {
		return 1 << 62 // past int64: past every bound
	}
	return i
}

// clampInt sets obj[key] to at most limit (and at least 0), reporting
// whether it changed.
func clampInt(obj map[string]any, key string, limit int64) bool {
	v := jsonInt(obj, key)
	if _, present := obj[key]; !present || v >= 0 && v <= limit {
		return false
	}
	obj[key] = min(max(v, 0), limit)
	return true
}

func boundRules(rules map[string]any, kind string) bool {
	const (
		maxBookingMinutes = 31 * 24 * 60 // min_minutes, max_minutes
		maxNoticeMinutes  = 90 * 24 * 60 // min_notice_minutes, cancel_deadline_minutes
	)
	changed := false
	for key, limit := range map[string]int64{"min_minutes": maxBookingMinutes, "max_minutes": maxBookingMinutes,
		"min_notice_minutes": maxNoticeMinutes, "cancel_deadline_minutes": maxNoticeMinutes} {
		changed = clampInt(rules, key, limit) || changed
	}
	if jsonInt(rules, "max_minutes") == 0 {
		def := int64(24 * 60)
		if kind == "machine" {
			def = 8 * 60
		}
		rules["max_minutes"] = max(def, jsonInt(rules, "min_minutes"))
		changed = true
	}
	return changed
}

func boundIncludes(includes map[string]any, _ string) bool {
	quotas, ok := includes["quotas"].(map[string]any)
	if !ok {
		return false
	}
	changed := false
	for key, limit := range map[string]int64{"max_concurrent_reservations": 1000, "max_minutes_per_day": 31 * 24 * 60,
		"max_minutes_per_week": 31 * 24 * 60, "horizon_days": 730} {
		changed = clampInt(quotas, key, limit) || changed
	}
	return changed
}
