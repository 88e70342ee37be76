// Package parallel is the one worker pool of rootwatch: it runs a function
// over items, a bounded number at a time, each with its own context and an
// optional deadline. Items come from a list (Map, results in input order)
// or from a stream the caller feeds as it reads (Stream, results as they
// finish). The bound is a Limiter, fixed by default; the organization scan
// plugs in an AIMD one that lowers it under throttling (NewAIMD).
//
// Every item is accounted for: when the caller's context ends no item
// starts, the running ones see the cancellation, and the caller is told
// which items never ran. A panic in an item is not lost: the pool stops
// starting items, waits for the running ones, and raises it again in the
// caller's goroutine with the stack where it happened. No goroutine
// outlives a call.
package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Limiter bounds the items in flight.
type Limiter interface {
	// Acquire waits for a slot; false when ctx ended first.
	Acquire(ctx context.Context) bool
	// Release frees a slot taken by Acquire.
	Release()
}

// Fixed is a Limiter of n slots (at least one).
func Fixed(n int) Limiter {
	return fixed(make(chan struct{}, max(n, 1)))
}

type fixed chan struct{}

func (f fixed) Acquire(ctx context.Context) bool {
	select {
	case f <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f fixed) Release() { <-f }

// Options bound a run.
type Options struct {
	// Limit is the most items in flight (default GOMAXPROCS) unless
	// Limiter is set.
	Limit int
	// Limiter, when set, bounds the items in flight instead of Limit: a
	// bound that may change while the items run.
	Limiter Limiter
	// Timeout is each item's deadline; none when zero.
	Timeout time.Duration
}

func (o Options) limiter() Limiter {
	if o.Limiter != nil {
		return o.Limiter
	}
	if o.Limit <= 0 {
		return Fixed(runtime.GOMAXPROCS(0))
	}
	return Fixed(o.Limit)
}

// Panic is a panic raised by an item, raised again in the caller's
// goroutine once the other items have ended.
type Panic struct {
	Value any
	Stack []byte // the item's goroutine when it panicked
}

func (p *Panic) Error() string {
	return fmt.Sprintf("panic in a parallel item: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap gives the panic's value when it is an error.
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// errPanicked is the cause the other items see when one panicked.
var errPanicked = errors.New("another item panicked")

// Stream runs fn on each item that feed adds, while feed is still adding:
// feed runs in the caller's goroutine and add blocks until the item has a
// slot and starts. add returns nil when the item started; otherwise it
// did not run and never will, and the error says why: the caller's
// context ended (its Err), or an item panicked (Stream then panics after
// feed returns). done, if not nil, is called with each item as it
// finishes (an item that is a pointer carries its result), one call at a
// time, before the item's slot is released. Stream returns when feed has
// returned and every item started has finished.
func Stream[T any](ctx context.Context, o Options, fn func(context.Context, T), done func(T), feed func(add func(T) error)) {
	lim := o.limiter()
	inner, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		wg     sync.WaitGroup
		doneMu sync.Mutex
		pmu    sync.Mutex
		first  *Panic
	)
	refused := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return context.Cause(inner)
	}
	run := func(item T) {
		defer wg.Done()
		defer lim.Release()
		defer func() {
			if v := recover(); v != nil {
				pmu.Lock()
				if first == nil {
					first = &Panic{Value: v, Stack: debug.Stack()}
				}
				pmu.Unlock()
				stop(errPanicked)
			}
		}()
		var ictx context.Context
		var cancel context.CancelFunc
		if o.Timeout > 0 {
			ictx, cancel = context.WithTimeout(inner, o.Timeout)
		} else {
			ictx, cancel = context.WithCancel(inner)
		}
		defer cancel()
		fn(ictx, item)
		cancel()
		if done != nil {
			doneMu.Lock()
			defer doneMu.Unlock()
			done(item)
		}
	}
	add := func(item T) error {
		// A limiter may hand out a slot although ctx has ended (a select
		// with both ready): the context is asked before and after.
		if inner.Err() != nil || !lim.Acquire(inner) {
			return refused()
		}
		if inner.Err() != nil {
			lim.Release()
			return refused()
		}
		wg.Add(1)
		go run(item)
		return nil
	}
	func() {
		defer func() {
			if v := recover(); v != nil { // in feed itself: its items end first
				stop(errPanicked)
				wg.Wait()
				panic(v)
			}
		}()
		feed(add)
	}()
	wg.Wait()
	if first != nil {
		panic(first)
	}
}

// Map runs fn for 0..n-1 and returns the results in that order, with the
// indices that never ran because ctx ended (their results are zero; the
// caller says why, from ctx.Err(), which is then not nil).
func Map[R any](ctx context.Context, n int, o Options, fn func(ctx context.Context, i int) R) (out []R, notRun []int) {
	out = make([]R, n)
	Stream(ctx, o, func(ctx context.Context, i int) { out[i] = fn(ctx, i) }, nil, func(add func(int) error) {
		for i := range n {
			if add(i) != nil {
				notRun = append(notRun, i)
			}
		}
	})
	return out, notRun
}
