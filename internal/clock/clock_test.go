package clock

import (
	"testing"
	"time"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fired(tm Timer) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestFake_TimersFireWhenTimePassesDeadline(t *testing.T) {
	c := NewFake(start)
	tm := c.NewTimer(10 * time.Second)
	c.Advance(9 * time.Second)
	if fired(tm) {
		t.Fatal("fired early")
	}
	c.Advance(time.Second)
	if !fired(tm) {
		t.Fatal("did not fire at its deadline")
	}
	if c.Timers() != 0 {
		t.Fatalf("%d timers pending after firing", c.Timers())
	}
}

func TestFake_StopAndBackwardJumps(t *testing.T) {
	c := NewFake(start)
	a, b := c.NewTimer(time.Second), c.NewTimer(time.Minute)
	if !a.Stop() || a.Stop() {
		t.Fatal("Stop should report true once")
	}
	c.Set(start.Add(-time.Hour)) // the wall clock jumps back
	if fired(b) || !c.Now().Equal(start.Add(-time.Hour)) {
		t.Fatal("backward jump fired a timer or did not move the clock")
	}
	c.Set(start.Add(time.Minute))
	if fired(a) || !fired(b) {
		t.Fatal("stopped timer fired, or due timer did not")
	}
	if z := c.NewTimer(0); !fired(z) {
		t.Fatal("zero-duration timer did not fire at once")
	}
}

func TestReal_TimerFires(t *testing.T) {
	tm := Real.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Fatal("real timer did not fire")
	}
}
