package stream

import (
	"context"
	"testing"
	"time"
)

func TestBudgetAdmitsAnOversizeItemAlone(t *testing.T) {
	b := NewBudget(10)
	if !b.TryAcquire(4) || !b.TryAcquire(6) {
		t.Fatal("items within the budget must fit")
	}
	if b.TryAcquire(1) {
		t.Fatal("a full budget admitted more")
	}
	b.Release(10)
	if !b.TryAcquire(25) {
		t.Fatal("an item larger than the budget must pass when alone")
	}
	if b.TryAcquire(1) {
		t.Fatal("nothing may join an oversize item")
	}
	done := make(chan error, 1)
	go func() { done <- b.Acquire(context.Background(), 3) }()
	b.Release(25)
	select {
	case err := <-done:
		if err != nil || b.Used() != 3 {
			t.Fatalf("acquire after release: %v, used %d", err, b.Used())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting Acquire was not woken by Release")
	}
}
