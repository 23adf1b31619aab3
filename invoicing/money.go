package invoicing

// Payment methods.
const (
	MethodCard     = "card"
	MethodSEPA     = "sepa"
	MethodCash     = "cash"
	MethodCheque   = "cheque"
	MethodTransfer = "transfer"
)

// VAT rates French tiers lieux use, in basis points (2000 = 20 %).
var VATRates = []int{0, 550, 1000, 2000}

// SplitTTC derives HT and VAT from a price including VAT, rounding HT half
// up to the cent: 25,00 € TTC at 20 % is 20,83 € HT + 4,17 € VAT.
func SplitTTC(ttcCents int64, rateBP int) (ht, vat int64) {
	num := ttcCents * 10000
	den := int64(10000 + rateBP)
	ht = (2*num + den) / (2 * den)
	return ht, ttcCents - ht
}
