package cloudtrail

import (
	"bytes"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// What a source shows of each account: its events and the span of their
// times, counted as records are read (decoded or not).

// countAccount adds one event to the account it was recorded for, and its
// time (the raw eventTime text) to what the source shows of the account.
func (d *decoder) countAccount(account string, eventTime []byte) {
	d.countAccountBytes([]byte(account), eventTime)
}

// countAccountBytes is countAccount for the fast path: a log file holds one
// account's records, so the last account's entry is kept at hand and most
// records cost no map lookup and no allocation.
func (d *decoder) countAccountBytes(account, eventTime []byte) {
	if len(account) == 0 {
		account = unknownAccount
	}
	st := d.last
	if st == nil || !bytes.Equal(account, d.lastID) {
		if st = d.accounts[string(account)]; st == nil {
			if d.accounts == nil {
				d.accounts = map[string]*accountStat{}
			}
			st = &accountStat{}
			d.accounts[string(account)] = st
		}
		d.last, d.lastID = st, append(d.lastID[:0], account...)
	}
	st.events++
	if !cloudTrailTime(eventTime) {
		return
	}
	// CloudTrail writes eventTime as YYYY-MM-DDThh:mm:ssZ, which orders as
	// text: compare bytes here and parse two strings per account at the end.
	t := eventTime[:19]
	if len(st.from) == 0 || bytes.Compare(t, st.from) < 0 {
		st.from = append(st.from[:0], t...)
	}
	if len(st.to) == 0 || bytes.Compare(t, st.to) > 0 {
		st.to = append(st.to[:0], t...)
	}
}

// UnknownAccount is the account of records that name none.
const UnknownAccount = "unknown"

var unknownAccount = []byte(UnknownAccount)

// accountStat is what a source shows of one account: its events, and the
// earliest and latest eventTime seen, as text.
type accountStat struct {
	events   int
	from, to []byte
}

// cloudTrailTime reports whether b is a UTC time as CloudTrail writes it
// (2026-03-01T12:00:00Z, optionally with fractional seconds). Other texts
// say nothing about coverage.
func cloudTrailTime(b []byte) bool {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return false
	}
	digit := func(c byte) bool { return c-'0' < 10 }
	if !(digit(b[0]) && digit(b[1]) && digit(b[2]) && digit(b[3]) && digit(b[5]) && digit(b[6]) && digit(b[8]) &&
		digit(b[9]) && digit(b[11]) && digit(b[12]) && digit(b[14]) && digit(b[15]) && digit(b[17]) && digit(b[18])) {
		return false
	}
	two := func(i int) int { return int(b[i]-'0')*10 + int(b[i+1]-'0') }
	month, day, hour, minute, second := two(5), two(8), two(11), two(14), two(17)
	// The day is checked against 31, not the month's length: a 30 February
	// fails to parse at the end and leaves the account without a span,
	// which fails closed.
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60
}

// finishCoverage fills the statistics' per-account counts and spans.
func (d *decoder) finishCoverage() {
	for account, st := range d.accounts {
		if d.stats.Accounts == nil {
			d.stats.Accounts = map[string]int{}
		}
		d.stats.Accounts[account] = st.events
		if len(st.from) == 0 {
			continue
		}
		from, err1 := time.Parse("2006-01-02T15:04:05", string(st.from))
		to, err2 := time.Parse("2006-01-02T15:04:05", string(st.to))
		if err1 != nil || err2 != nil {
			continue // e.g. 30 February: not a time after all
		}
		if d.stats.Coverage == nil {
			d.stats.Coverage = map[string]evidence.Span{}
		}
		d.stats.Coverage[account] = evidence.Span{From: from.UTC(), To: to.UTC()}
	}
}
