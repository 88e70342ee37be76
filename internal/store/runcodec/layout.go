package runcodec

import "encoding/binary"

// Layout places a run's findings in run_accounts rows: one row per
// account the run lists, in its order, holding that account's findings
// in the run's order; then one row per account that only findings name.
type Layout struct {
	Rows []LayRow
	// Order, when the findings are not in the rows' order, gives each
	// finding's place among them (uvarints); Reorder puts them back.
	Order []byte
}

// LayRow is one account's row: the account's index in the run's accounts
// (-1: not listed) and its findings' indexes.
type LayRow struct {
	AccountID, Status string
	Account           int
	Findings          []int
}

// LayOut lays a run out in rows.
func LayOut(raw *Doc) Layout {
	var lay Layout
	first := map[string]int{}
	for i, id := range raw.AccountIDs {
		if _, ok := first[id]; !ok {
			first[id] = len(lay.Rows)
		}
		lay.Rows = append(lay.Rows, LayRow{AccountID: id, Status: raw.AccountStatus[i], Account: i})
	}
	for j, f := range raw.Facts {
		k, ok := first[f.AccountID]
		if !ok {
			k = len(lay.Rows)
			first[f.AccountID] = k
			lay.Rows = append(lay.Rows, LayRow{AccountID: f.AccountID, Account: -1})
		}
		lay.Rows[k].Findings = append(lay.Rows[k].Findings, j)
	}
	place := make([]int, len(raw.Facts))
	pos, inOrder := 0, true
	for _, r := range lay.Rows {
		for _, j := range r.Findings {
			place[j] = pos
			inOrder = inOrder && j == pos
			pos++
		}
	}
	if !inOrder {
		for _, p := range place {
			lay.Order = binary.AppendUvarint(lay.Order, uint64(p))
		}
	}
	return lay
}

// Reorder puts findings read in their rows' order back in the run's
// order (Layout.Order; none: they are in it).
func Reorder(findings [][]byte, order []byte) ([][]byte, error) {
	if len(order) == 0 {
		return findings, nil
	}
	placed := make([][]byte, len(findings))
	taken := make([]bool, len(findings))
	rd := Reader{B: order}
	for i := range placed {
		p := rd.Uvarint()
		if rd.Err != nil || p >= uint64(len(findings)) || taken[p] {
			return nil, ErrCorrupt
		}
		taken[p] = true
		placed[i] = findings[p]
	}
	if rd.Done() != nil {
		return nil, ErrCorrupt
	}
	return placed, nil
}
