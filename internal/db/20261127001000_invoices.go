package db

// Invoices and credit notes (avoirs), their lines, and the two counters that
// make numbering gapless and the documents tamper-evident:
//
//   - invoice_chains holds one row per issuing legal entity (entity_key is the
//     seller's SIREN): the length and head of its hash chain, which runs
//     across years, and the issue time of its last document (issue times
//     never go back). Issuing locks this row first, so one entity issues one
//     document at a time.
//   - invoice_sequences holds the last number used per entity and year; French
//     law allows a new series each year, but never a gap inside one.
//
// Documents are append-only: the application has no UPDATE or DELETE for
// them, and invoices.canonical + hash let `invoices verify` detect any change
// made behind its back. Amounts are integer cents; credit notes carry
// negative amounts (checked below) so that the sum of a period is its net.
func init() {
	up := ddl(
		`CREATE TABLE invoice_chains (
			entity_key TEXT PRIMARY KEY,
			length BIGINT NOT NULL CHECK (length >= 0),
			head_hash TEXT NOT NULL,
			last_issued_at {TS}
		)`,
		`CREATE TABLE invoice_sequences (
			entity_key TEXT NOT NULL,
			year INTEGER NOT NULL,
			last_seq BIGINT NOT NULL CHECK (last_seq >= 1),
			PRIMARY KEY (entity_key, year)
		)`,
		`CREATE TABLE invoices (
			id TEXT PRIMARY KEY,
			entity_key TEXT NOT NULL,
			site_id TEXT NOT NULL REFERENCES sites (id),
			number TEXT NOT NULL,
			year INTEGER NOT NULL,
			seq BIGINT NOT NULL CHECK (seq >= 1),
			chain_index BIGINT NOT NULL CHECK (chain_index >= 1),
			kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
			corrects_invoice_id TEXT REFERENCES invoices (id),
			corrects_number TEXT NOT NULL DEFAULT '',
			corrects_issued_at {TS},
			reason TEXT NOT NULL DEFAULT '',
			issued_at {TS} NOT NULL,
			service_from TEXT NOT NULL,
			service_to TEXT NOT NULL,
			due_date TEXT NOT NULL DEFAULT '',
			buyer_user_id TEXT REFERENCES users (id),
			buyer_name TEXT NOT NULL,
			buyer_email TEXT NOT NULL DEFAULT '',
			buyer_address {JSON} NOT NULL,
			buyer_is_business BOOLEAN NOT NULL,
			buyer_siren TEXT NOT NULL DEFAULT '',
			buyer_vat_number TEXT NOT NULL DEFAULT '',
			seller {JSON} NOT NULL,
			currency TEXT NOT NULL CHECK (currency = 'EUR'),
			total_ht_cents BIGINT NOT NULL,
			total_vat_cents BIGINT NOT NULL,
			total_ttc_cents BIGINT NOT NULL,
			vat_breakdown {JSON} NOT NULL,
			paid_at {TS},
			payment_method TEXT NOT NULL DEFAULT ''
				CHECK (payment_method IN ('', 'card', 'sepa', 'cash', 'cheque', 'transfer')),
			payment_reference TEXT NOT NULL DEFAULT '',
			mentions {JSON} NOT NULL,
			notes TEXT NOT NULL DEFAULT '',
			canonical TEXT NOT NULL,
			prev_hash TEXT NOT NULL,
			hash TEXT NOT NULL,
			created_at {TS} NOT NULL,
			UNIQUE (entity_key, year, seq),
			UNIQUE (entity_key, chain_index),
			CHECK (total_ttc_cents = total_ht_cents + total_vat_cents),
			CHECK ((kind = 'invoice' AND total_ht_cents >= 0 AND total_vat_cents >= 0 AND corrects_invoice_id IS NULL)
				OR (kind = 'credit_note' AND total_ht_cents <= 0 AND total_vat_cents <= 0 AND corrects_invoice_id IS NOT NULL))
		)`,
		`CREATE INDEX invoices_site_idx ON invoices (site_id, issued_at)`,
		`CREATE INDEX invoices_buyer_idx ON invoices (buyer_user_id, issued_at)`,
		`CREATE INDEX invoices_issued_idx ON invoices (entity_key, issued_at)`,
		`CREATE INDEX invoices_corrects_idx ON invoices (corrects_invoice_id)`,
		`CREATE TABLE invoice_lines (
			invoice_id TEXT NOT NULL REFERENCES invoices (id),
			position INTEGER NOT NULL CHECK (position >= 1),
			description TEXT NOT NULL,
			quantity_milli BIGINT NOT NULL CHECK (quantity_milli > 0),
			price_basis TEXT NOT NULL CHECK (price_basis IN ('ht', 'ttc')),
			unit_price_ht_cents BIGINT NOT NULL,
			unit_price_ttc_cents BIGINT NOT NULL,
			vat_rate_bp INTEGER NOT NULL CHECK (vat_rate_bp IN (0, 550, 1000, 2000)),
			total_ht_cents BIGINT NOT NULL,
			total_vat_cents BIGINT NOT NULL,
			total_ttc_cents BIGINT NOT NULL,
			corrects_position INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (invoice_id, position),
			CHECK (total_ttc_cents = total_ht_cents + total_vat_cents)
		)`,
	)
	down := ddl(
		`DROP TABLE invoice_lines`,
		`DROP TABLE invoices`,
		`DROP TABLE invoice_sequences`,
		`DROP TABLE invoice_chains`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
