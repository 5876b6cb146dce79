package switching

// ChanPingPong runs roundTrips round trips between two goroutines over two
// unbuffered channels: the calling goroutine sends a sequence number to a
// partner, which checks it and sends the next one back. Each send on an
// unbuffered channel blocks until the other side receives, so every
// message is one hand-off of control.
func ChanPingPong(roundTrips int, region Region) Handoffs {
	ping := make(chan uint64)
	pong := make(chan uint64)
	partnerDone := make(chan Handoffs)

	go func() {
		var h Handoffs
		var want uint64 = 1
		for seq := range ping {
			if seq != want {
				h.OrderErrors++
			}
			want = seq + 2
			pong <- seq + 1
			h.SideB++
		}
		partnerDone <- h
	}()

	// One exchange before the timed region, so the partner goroutine is
	// running and parked on its receive when the clock starts.
	ping <- 1
	<-pong

	var h Handoffs
	var seq uint64 = 3
	region.Start()
	for i := 0; i < roundTrips; i++ {
		ping <- seq
		h.SideA++
		if got := <-pong; got != seq+1 {
			h.OrderErrors++
		}
		seq += 2
	}
	region.Stop()

	close(ping)
	b := <-partnerDone
	// The untimed warm-up exchange is not part of the count.
	h.SideB = b.SideB - 1
	h.OrderErrors += b.OrderErrors
	return h
}
