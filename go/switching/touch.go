package switching

// touch writes one byte per cache line of buf and returns a checksum, so
// a turn pays the cache cost of its working set. It is never inlined so
// that a ring side and touch.ring run the very same code at every turn,
// and subtracting one from the other leaves only the switch.
//
//go:noinline
func touch(buf []byte) (sum int) {
	for i := 0; i < len(buf); i += 64 {
		buf[i]++
		sum += int(buf[i])
	}
	return sum
}

// TouchRing is what a ring's sides do at their turns, without the ring:
// one goroutine touches size buffers of workingSet bytes in turn, laps
// times, as size ring sides would touch theirs, and never switches. A
// ring's time less this one's is the switching alone, as lmbench's
// lat_ctx subtracts its overhead. Each touch is counted as a turn.
func TouchRing(laps, size, workingSet int, region Region) Handoffs {
	if laps < 1 || size < 1 || workingSet < 64 {
		return Handoffs{}
	}
	bufs := make([][]byte, size)
	for i := range bufs {
		bufs[i] = make([]byte, workingSet)
		touch(bufs[i])
	}
	var turns, sum int
	region.Start()
	for lap := 0; lap < laps; lap++ {
		for _, buf := range bufs {
			sum += touch(buf)
			turns++
		}
	}
	region.Stop()
	checksumSink.Add(int64(sum))
	return Handoffs{Count: turns, Expected: laps * size}
}
