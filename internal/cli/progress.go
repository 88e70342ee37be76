package cli

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/scan"
)

// progressBar draws "[####      ] 420/1000 accounts · 12 failed" on stderr
// when it is a terminal, at most ten times a second; in CI logs it is silent.
type progressBar struct {
	app   *App
	on    bool
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgressBar(app *App) *progressBar {
	return &progressBar{app: app, on: app.IsTerminal(app.Stderr)}
}

func (b *progressBar) update(p scan.Progress) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.Done < p.Total && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := 0
	if p.Total > 0 {
		filled = min(p.Done*width/p.Total, width)
	}
	fmt.Fprintf(b.app.Stderr, "\r[%s%s] %d/%d accounts · %d failed · %d remaining ",
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.Done, p.Total, p.Failed, p.Total-p.Done)
	b.shown = true
}

func (b *progressBar) finish() {
	if b.on && b.shown {
		fmt.Fprintln(b.app.Stderr)
	}
}
