package db

// Walk-ins' accounts (identity, package people):
//   - users.awaiting_password: an account registered at a desk whose owner
//     has not chosen a password yet. Until then the desk may correct its
//     name, phone and email; once they have, they edit their own profile.
//     A walk-in could only ever have chosen one through a reset link, and
//     signing in needs one, so the walk-ins of site_people with no used
//     link and no session have not.
//   - password_resets.invited_email: for an invitation, the address it was
//     sent to; setting the password through it while the account still
//     has that address proves the address (email verified).
func init() {
	up := ddl(
		`ALTER TABLE users ADD COLUMN awaiting_password BOOLEAN NOT NULL DEFAULT FALSE`,
		`UPDATE users SET awaiting_password = TRUE
		 WHERE deleted_at IS NULL
		   AND id IN (SELECT user_id FROM site_people)
		   AND id NOT IN (SELECT user_id FROM password_resets WHERE used_at IS NOT NULL)
		   AND id NOT IN (SELECT user_id FROM sessions)`,
		`ALTER TABLE password_resets ADD COLUMN invited_email TEXT`,
	)
	down := ddl(
		`ALTER TABLE password_resets DROP COLUMN invited_email`,
		`ALTER TABLE users DROP COLUMN awaiting_password`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
