// Command cpujitter times a fixed piece of CPU work 400 times and prints
// its p50, p99 and slowest runs: the machine's own noise, to read beside a
// benchmark's percentiles (on a shared virtual machine a p99 twice the
// p50 can be the machine, not the code).
//
//	go run ./bench/cpujitter
package main

import (
	"fmt"
	"slices"
	"time"
)

func work() int {
	s := 0
	for i := range 12_000_000 {
		s += i ^ (s >> 3)
	}
	return s
}

func main() {
	var d []time.Duration
	sink := 0
	for range 400 {
		t := time.Now()
		sink += work()
		d = append(d, time.Since(t))
	}
	slices.Sort(d)
	fmt.Printf("fixed work: p50 %v, p99 %v, slowest %v (%d)\n",
		d[len(d)/2].Round(time.Microsecond), d[len(d)*99/100].Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond), sink%2)
}
