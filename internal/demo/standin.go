package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/pgbento/cdc/internal/bento/bentofake"
)

// StandIn serves the demo's Bento stand-in alone on ln, for a trial of
// `cdc run` against one's own database (`cdc demo --stand-in ADDR`): it
// accepts any site_uuid and keys, answers like Bento (Events API, batch
// endpoints, $change_email), keeps everything in memory, and when ctx ends
// prints what it accepted: events per type and purchase totals per email.
func StandIn(ctx context.Context, ln net.Listener, out io.Writer, fake *bentofake.Bento) error {
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(out, "Bento stand-in at http://%s: set bento.base_url to it (any site_uuid and keys are accepted); Ctrl-C stops it and prints what it received\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve bento stand-in: %w", err)
	case <-ctx.Done():
	}
	fake.Interrupt()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("stop bento stand-in: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve bento stand-in: %w", err)
	}
	printReceived(out, fake)
	return nil
}

// printReceived prints the events accepted per type and the purchase
// totals per email, sorted.
func printReceived(out io.Writer, fake *bentofake.Bento) {
	events := fake.Received()
	byType := map[string]int{}
	for _, ev := range events {
		byType[ev.Type]++
	}
	fmt.Fprintf(out, "received %d events\n", len(events))
	for _, k := range slices.Sorted(maps.Keys(byType)) {
		fmt.Fprintf(out, "  %s: %d\n", k, byType[k])
	}
	totals := fake.PurchaseTotals()
	for _, k := range slices.Sorted(maps.Keys(totals)) {
		fmt.Fprintf(out, "  purchases %s: %d cents\n", k, totals[k])
	}
}
