package qr

import (
	"fmt"
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func fmtSscanf(seg string, x, y, n, m *int) (int, error) {
	return fmt.Sscanf(seg, "M%d %dh%dv1h-%d", x, y, n, m)
}
