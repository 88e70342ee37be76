package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// noLeak fails the test if a goroutine the pool started is still alive
// when the test ends. A goroutine past its last statement may not have
// exited yet, so the check yields a while before it fails.
func noLeak(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		var left []string
		for range 10000 {
			if left = poolGoroutines(); len(left) == 0 {
				return
			}
			runtime.Gosched()
		}
		t.Errorf("%d goroutines of the pool outlived the call:\n%s", len(left), strings.Join(left, "\n\n"))
	})
}

func poolGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "created by github.com/rootwatch/rootwatch/internal/parallel.Stream[") {
			out = append(out, g)
		}
	}
	return out
}

// TestMapOrderAndStreamAsFinished: items finish in the reverse of their
// order (each waits for the next); Map gives the results in input order,
// Stream's done sees them as they finish.
func TestMapOrderAndStreamAsFinished(t *testing.T) {
	noLeak(t)
	const n = 50
	chain := func() []chan struct{} {
		c := make([]chan struct{}, n+1)
		for i := range c {
			c[i] = make(chan struct{})
		}
		close(c[n])
		return c
	}
	c := chain()
	out, notRun := Map(context.Background(), n, Options{Limit: n}, func(_ context.Context, i int) string {
		<-c[i+1]
		defer close(c[i])
		return fmt.Sprint(i * i)
	})
	if len(notRun) != 0 || len(out) != n {
		t.Fatalf("%d results, not run %v", len(out), notRun)
	}
	for i, r := range out {
		if r != fmt.Sprint(i*i) {
			t.Fatalf("result %d is %q: results are not in input order", i, r)
		}
	}

	// Item i ends once done had item i+1: done that waited for the end of
	// every item would never be called.
	c = chain()
	var finished []int
	Stream(context.Background(), Options{Limit: n}, func(_ context.Context, i int) {
		select {
		case <-c[i+1]:
		case <-time.After(time.Minute):
			t.Errorf("item %d: done did not see item %d as it finished", i, i+1)
		}
	}, func(i int) {
		finished = append(finished, i) // done is called one at a time
		close(c[i])
	}, func(add func(int) error) {
		for i := range n {
			if err := add(i); err != nil {
				t.Errorf("item %d refused: %v", i, err)
			}
		}
	})
	if len(finished) != n || !slices.IsSortedFunc(finished, func(a, b int) int { return b - a }) {
		t.Errorf("done saw %v, want every item as it finished, last first", finished)
	}
}

// gate holds items inside fn until released, counting how many are in at
// once.
type gate struct {
	entered         chan int
	release         chan struct{}
	inside, maxSeen atomic.Int64
	over            atomic.Int64 // entries that found more inside than bound() allows
	bound           func() int
}

func newGate(n int, bound func() int) *gate {
	return &gate{entered: make(chan int, n), release: make(chan struct{}), bound: bound}
}

func (g *gate) fn(ctx context.Context, i int) error {
	cur := g.inside.Add(1)
	defer g.inside.Add(-1)
	for {
		m := g.maxSeen.Load()
		if cur <= m || g.maxSeen.CompareAndSwap(m, cur) {
			break
		}
	}
	if cur > int64(g.bound()) {
		g.over.Add(1)
	}
	g.entered <- i
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestLimitNeverExceeded(t *testing.T) {
	noLeak(t)
	const n, limit = 60, 3
	g := newGate(n, func() int { return limit })
	finished := make(chan []error)
	go func() {
		errs, notRun := Map(context.Background(), n, Options{Limit: limit}, g.fn)
		if len(notRun) > 0 {
			t.Errorf("not run: %v", notRun)
		}
		finished <- errs
	}()
	for range limit { // the bound is reached before anything ends
		<-g.entered
	}
	if got := len(poolGoroutines()); got != limit { // what noLeak looks for
		t.Errorf("%d goroutines of the pool seen with %d items running", got, limit)
	}
	for range n - limit {
		g.release <- struct{}{}
		<-g.entered
	}
	for range limit {
		g.release <- struct{}{}
	}
	errs := <-finished
	for i, err := range errs {
		if err != nil {
			t.Errorf("item %d: %v", i, err)
		}
	}
	if m := g.maxSeen.Load(); m != limit || g.over.Load() > 0 {
		t.Errorf("at most %d items inside at once (%d entries above the bound), want exactly %d", m, g.over.Load(), limit)
	}
}

// TestLimitChangesTakeEffect: the AIMD bound falls from 16 to 8 with 16
// items in flight. Eight end: no item starts while 8 are in flight. The
// bound grows to 9: one starts. The caller then cancels: nothing else runs.
func TestLimitChangesTakeEffect(t *testing.T) {
	noLeak(t)
	const n = 40
	lim := NewAIMD(16)
	g := newGate(n, func() int { l, _ := lim.State(); return l })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		notRun []int
		errs   []error
	}
	finished := make(chan outcome)
	go func() {
		errs, notRun := Map(ctx, n, Options{Limiter: lim}, g.fn)
		finished <- outcome{notRun, errs}
	}()
	for range 16 {
		<-g.entered
	}
	lim.Throttled()
	for range 8 {
		g.release <- struct{}{}
	}
	lim.Succeeded()
	<-g.entered
	cancel()
	o := <-finished
	if want := n - 17; len(o.notRun) != want {
		t.Errorf("%d items never ran, want %d: the lowered bound was not followed", len(o.notRun), want)
	}
	if g.over.Load() > 0 {
		t.Errorf("%d items started above the bound as it was then", g.over.Load())
	}
	ran := 0
	for i, err := range o.errs {
		if !slices.Contains(o.notRun, i) {
			ran++
		} else if err != nil {
			t.Errorf("item %d never ran but has a result", i)
		}
	}
	if ran != 17 {
		t.Errorf("%d items ran, want 17", ran)
	}
}

// TestCancelAccountsForEveryItem: when the caller's context ends, the
// items running see it, none starts, and the caller learns which never ran.
func TestCancelAccountsForEveryItem(t *testing.T) {
	noLeak(t)
	const n, limit = 20, 4
	g := newGate(n, func() int { return limit })
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	var errs []error
	var notRun []int
	go func() {
		defer close(finished)
		errs, notRun = Map(ctx, n, Options{Limit: limit}, g.fn)
	}()
	for range limit {
		<-g.entered
	}
	cancel()
	<-finished
	for i := range limit {
		if !errors.Is(errs[i], context.Canceled) {
			t.Errorf("running item %d ended with %v, want it to see the cancellation", i, errs[i])
		}
	}
	if want := []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}; !slices.Equal(notRun, want) {
		t.Errorf("not run %v, want %v", notRun, want)
	}

	// A context that has already ended starts nothing, although the
	// limiter has free slots.
	started := atomic.Int64{}
	var refusals []error
	Stream(ctx, Options{Limit: 1000}, func(context.Context, int) { started.Add(1) }, nil,
		func(add func(int) error) {
			for i := range 200 {
				if err := add(i); err != nil {
					refusals = append(refusals, err)
				}
			}
		})
	if started.Load() != 0 || len(refusals) != 200 || !errors.Is(refusals[0], context.Canceled) {
		t.Errorf("after cancellation: %d started, %d refused (%v)", started.Load(), len(refusals), refusals[0])
	}
}

func TestDeadlinePerItem(t *testing.T) {
	noLeak(t)
	ctx := context.Background()
	errs, _ := Map(ctx, 3, Options{Timeout: 20 * time.Millisecond}, func(ctx context.Context, i int) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		if i == 1 { // waits for its deadline
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], context.DeadlineExceeded) {
		t.Errorf("got %v: want only item 1 past its own deadline", errs)
	}
	errs, _ = Map(ctx, 2, Options{}, func(ctx context.Context, i int) error {
		if _, ok := ctx.Deadline(); ok {
			return errors.New("a deadline without Timeout")
		}
		return nil
	})
	if errs[0] != nil || errs[1] != nil {
		t.Error(errs)
	}
}

// TestPanicIsRaisedInTheCaller: an item's panic stops new items, ends the
// running ones' contexts, and comes back in the caller with its stack.
func TestPanicIsRaisedInTheCaller(t *testing.T) {
	noLeak(t)
	var started atomic.Int64
	var sawCancel atomic.Bool
	second := make(chan struct{})
	p := catch(func() {
		Map(context.Background(), 100, Options{Limit: 2}, func(ctx context.Context, i int) struct{} {
			started.Add(1)
			if i == 0 {
				<-second
				panicInItem()
			}
			close(second)
			select {
			case <-ctx.Done():
				sawCancel.Store(true)
			case <-time.After(time.Minute): // the test fails, not hangs
			}
			return struct{}{}
		})
	})
	pe, ok := p.(*Panic)
	if !ok {
		t.Fatalf("recovered %T %v, want *Panic", p, p)
	}
	if pe.Value != "boom" || !strings.Contains(string(pe.Stack), "panicInItem") || !strings.Contains(pe.Error(), "boom") {
		t.Errorf("panic %q with stack:\n%s", pe.Value, pe.Stack)
	}
	if started.Load() != 2 || !sawCancel.Load() {
		t.Errorf("%d items started (want the 2 before the panic), the running one saw the end: %v", started.Load(), sawCancel.Load())
	}

	// An error value stays reachable; a panic in done is an item's panic.
	sentinel := errors.New("sentinel")
	p = catch(func() {
		Stream(context.Background(), Options{}, func(context.Context, int) {}, func(int) { panic(sentinel) },
			func(add func(int) error) { add(1) })
	})
	if pe, ok := p.(*Panic); !ok || !errors.Is(pe, sentinel) {
		t.Errorf("panic in done: %v", p)
	}

	// A panic in feed waits for the items it started, which see the end.
	var ended atomic.Bool
	p = catch(func() {
		Stream(context.Background(), Options{}, func(ctx context.Context, _ int) {
			<-ctx.Done()
			ended.Store(true)
		}, nil, func(add func(int) error) {
			add(1)
			panic("feed")
		})
	})
	if p != "feed" || !ended.Load() {
		t.Errorf("panic in feed: %v; the started item ended first: %v", p, ended.Load())
	}
}

func panicInItem() { panic("boom") }

func catch(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// TestStreamWaitsForEveryItem: nothing an item does is still running when
// Stream returns (run with -race: the unsynchronised reads below are the
// check).
func TestStreamWaitsForEveryItem(t *testing.T) {
	noLeak(t)
	results := make([]int, 500)
	var mu sync.Mutex
	calls := 0
	Stream(context.Background(), Options{Limit: 7}, func(_ context.Context, i int) {
		runtime.Gosched()
		results[i] = i + 1
	}, func(int) {
		mu.Lock()
		calls++
		mu.Unlock()
	}, func(add func(int) error) {
		for i := range results {
			add(i)
		}
	})
	for i, r := range results {
		if r != i+1 {
			t.Fatalf("item %d not finished when Stream returned", i)
		}
	}
	if calls != len(results) {
		t.Errorf("done called %d times for %d items", calls, len(results))
	}
}

// BenchmarkMapOverhead is the pool's own cost per item (a goroutine, a
// context, a slot), for items that do nothing.
func BenchmarkMapOverhead(b *testing.B) {
	for _, o := range []struct {
		name string
		o    Options
	}{{"fixed", Options{}}, {"aimd", Options{Limiter: NewAIMD(runtime.GOMAXPROCS(0))}}, {"timeout", Options{Timeout: time.Minute}}} {
		b.Run(o.name, func(b *testing.B) {
			Map(context.Background(), b.N, o.o, func(context.Context, int) struct{} { return struct{}{} })
		})
	}
}
