package ttlcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	c := &Cache[string, int]{TTL: 50 * time.Millisecond}
	if _, ok, _ := c.Get("a"); ok {
		t.Fatal("empty cache hit")
	}
	_, _, gen := c.Get("a")
	c.Put("a", gen, 1)
	if v, ok, _ := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get = %d, %v", v, ok)
	}

	// A value read before an invalidation is not kept.
	_, _, gen = c.Get("b")
	c.Invalidate()
	c.Put("b", gen, 2)
	if _, ok, _ := c.Get("b"); ok {
		t.Fatal("a value read before an invalidation was kept")
	}
	if _, ok, _ := c.Get("a"); ok {
		t.Fatal("Invalidate kept a value")
	}

	// Values lapse.
	_, _, gen = c.Get("c")
	c.Put("c", gen, 3)
	time.Sleep(60 * time.Millisecond)
	if _, ok, _ := c.Get("c"); ok {
		t.Fatal("a lapsed value was returned")
	}

	// Past Max the cache starts afresh.
	small := &Cache[int, int]{TTL: time.Minute, Max: 2}
	for k := range 3 {
		_, _, gen := small.Get(k)
		small.Put(k, gen, k)
	}
	if _, ok, _ := small.Get(0); ok {
		t.Fatal("the cache grew past Max")
	}
	if v, ok, _ := small.Get(2); !ok || v != 2 {
		t.Fatal("the newest value was dropped")
	}

	// A TTL of zero turns the cache off.
	off := &Cache[string, int]{}
	off.Put("a", 0, 1)
	if _, ok, _ := off.Get("a"); ok {
		t.Fatal("a cache with no TTL kept a value")
	}
}
