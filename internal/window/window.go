// Package window is how rootwatch's users write a duration (15d, 2w, 36h,
// 90m, or any Go duration such as 1h30m), read and written by one type: a
// run's window, the report age, a rule's duration parameter. Config files,
// flags and evidence bundles are read with it, runs' settings, rules'
// evidence and bundles written with it, so what is printed parses back to
// the same duration. It imports the standard library only.
package window

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Max is the longest window Parse accepts, whatever the unit it is written
// in: ten years, longer than any account's history worth judging and far
// from overflowing a time.Duration.
const Max = 3650 * 24 * time.Hour

// Window is a duration as users write it. The zero Window is one not
// given: its text is empty.
type Window time.Duration

var unitRE = regexp.MustCompile(`^(\d+)(w|d|h|m|s)$`)

// Parse reads a window: a whole number of weeks, days, hours, minutes or
// seconds (15d), or any Go duration (1h30m). It must be longer than zero
// and at most Max.
func Parse(s string) (Window, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if m := unitRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
		// The same limit in every unit, checked before multiplying.
		if err != nil || n > int64(Max/unit) {
			return 0, fmt.Errorf("%q is too large (at most 3650d)", s)
		}
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (use e.g. 15d, 36h, 90m)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be longer than zero", s)
	}
	if d > Max {
		return 0, fmt.Errorf("%q is too large (at most 3650d)", s)
	}
	return Window(d), nil
}

// Duration is the window as a time.Duration.
func (w Window) Duration() time.Duration { return time.Duration(w) }

// String writes the window in the largest unit that divides it: 15d, 36h,
// 90m; otherwise as a Go duration.
func (w Window) String() string {
	d := time.Duration(w)
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", int64(d/(24*time.Hour)))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	}
	return d.String()
}

// MarshalText writes the window as String does, and the zero Window (not
// given) as empty text. A window Parse would refuse is an error: what is
// written must read back.
func (w Window) MarshalText() ([]byte, error) {
	if w == 0 {
		return nil, nil
	}
	if w < 0 || time.Duration(w) > Max {
		return nil, fmt.Errorf("window %s is outside (0, 3650d]", time.Duration(w))
	}
	return []byte(w.String()), nil
}

// UnmarshalText reads a window as Parse does; empty text is the zero
// Window (not given).
func (w *Window) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*w = 0
		return nil
	}
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*w = v
	return nil
}
