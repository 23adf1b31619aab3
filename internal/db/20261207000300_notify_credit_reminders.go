package db

// notify's reminder that credit expires in a week: one row per lot, written
// in the transaction that queues its mail, so that the hourly sweep (run by
// one replica at a time, and again after a crash) mails each lot once.
func init() {
	up := ddl(
		`CREATE TABLE notify_credit_reminders (
			lot_id TEXT PRIMARY KEY REFERENCES credit_lots (id),
			user_id TEXT NOT NULL,
			queued_at {TS} NOT NULL
		)`,
	)
	down := ddl(`DROP TABLE notify_credit_reminders`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
