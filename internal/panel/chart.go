package panel

import (
	"fmt"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"strings"
)

// Chart is the overview's trend as an inline SVG drawn on the server: one
// line for failing findings (solid) and one for failing accounts (dashed),
// told apart by their stroke and their labels as well as their colour.
type Chart struct {
	Width, Height   int
	Left, Right     int // plot area, x
	Top, Bottom     int // plot area, y
	Findings        Series
	Accounts        Series
	YTicks          []Tick
	XFirst, XLast   Tick
	Max             int
	Empty, OnePoint bool
	Description     string
}

// Series is one line: its points, and a marker with a tooltip per run.
type Series struct {
	Points  string
	Markers []Marker
}

// Marker is one run's point.
type Marker struct {
	X, Y  int
	Title string
}

// Tick is an axis label at a position.
type Tick struct {
	Pos   int
	Label string
}

// trendChart lays out the trend.
func trendChart(points []query.TrendPoint) Chart {
	c := Chart{Width: 760, Height: 240, Left: 56, Right: 740, Top: 16, Bottom: 200}
	if len(points) == 0 {
		c.Empty = true
		return c
	}
	for _, p := range points {
		c.Max = max(c.Max, p.FailingFindings, p.FailingAccounts)
	}
	top := niceCeil(c.Max)
	x := func(i int) int {
		if len(points) == 1 {
			return (c.Left + c.Right) / 2
		}
		return c.Left + i*(c.Right-c.Left)/(len(points)-1)
	}
	y := func(v int) int { return c.Bottom - v*(c.Bottom-c.Top)/top }
	var fp, ap []string
	for i, p := range points {
		when := p.AsOf.UTC().Format("2006-01-02 15:04")
		fp = append(fp, fmt.Sprintf("%d,%d", x(i), y(p.FailingFindings)))
		ap = append(ap, fmt.Sprintf("%d,%d", x(i), y(p.FailingAccounts)))
		c.Findings.Markers = append(c.Findings.Markers, Marker{x(i), y(p.FailingFindings), fmt.Sprintf("run %d (%s): %d failing findings", p.RunID, when, p.FailingFindings)})
		c.Accounts.Markers = append(c.Accounts.Markers, Marker{x(i), y(p.FailingAccounts), fmt.Sprintf("run %d (%s): %d failing accounts", p.RunID, when, p.FailingAccounts)})
	}
	c.Findings.Points, c.Accounts.Points = strings.Join(fp, " "), strings.Join(ap, " ")
	for _, v := range []int{0, top / 2, top} {
		c.YTicks = append(c.YTicks, Tick{y(v), fmt.Sprint(v)})
	}
	first, last := points[0], points[len(points)-1]
	c.XFirst = Tick{x(0), fmt.Sprintf("run %d · %s", first.RunID, first.AsOf.UTC().Format("2006-01-02"))}
	c.XLast = Tick{x(len(points) - 1), fmt.Sprintf("run %d · %s", last.RunID, last.AsOf.UTC().Format("2006-01-02"))}
	c.OnePoint = len(points) == 1
	c.Description = fmt.Sprintf("Over %d runs, from run %d to run %d: failing findings from %d to %d, failing accounts from %d to %d.",
		len(points), first.RunID, last.RunID, first.FailingFindings, last.FailingFindings, first.FailingAccounts, last.FailingAccounts)
	return c
}

// niceCeil is a round, even axis top at or above v (even, so that the
// middle tick is a whole number).
func niceCeil(v int) int {
	step := 1
	for step*10 < v {
		step *= 10
	}
	for _, m := range []int{2, 4, 6, 8} {
		if top := step * m; top >= v {
			return top
		}
	}
	return step * 10
}
