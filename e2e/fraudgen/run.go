package fraudgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Config of a run.
type Config struct {
	Seed    uint64
	Scale   int // instances per scenario = Scenario.Instances × Scale (≥ 1)
	Workers int // instances driven concurrently (≥ 1)
}

// labelled is one referral with its label.
type labelled struct {
	scenario string
	fraud    bool
	arrival  Arrival
	friend   string
}

// Run drives a fresh program on tgt with the planned traffic and returns
// the report. The server must run the default fraud policy.
func Run(ctx context.Context, tgt Target, cfg Config) (*Report, error) {
	if cfg.Scale < 1 {
		cfg.Scale = 1
	}
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	d := newDriver(tgt, fmt.Sprintf("fg%d", cfg.Seed))
	if err := d.createProgram(ctx); err != nil {
		return nil, err
	}
	instances := plan(cfg.Seed, cfg.Scale)
	var labels []labelled
	for _, in := range instances {
		for _, f := range in.friends {
			labels = append(labels, labelled{in.scenario, in.fraud, in.arrival, f.p.id})
		}
	}

	work := make(chan *instance)
	errs := make(chan error, cfg.Workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range work {
				if err := d.drive(ctx, in); err != nil {
					errs <- fmt.Errorf("%s (%s): %w", in.scenario, in.advocate.id, err)
					cancel()
					return
				}
			}
		}()
	}
feed:
	for _, in := range instances {
		select {
		case work <- in:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return nil, err
	}
	out, err := d.outcomes(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	sig, err := d.signals(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	return newReport(cfg, labels, out, sig), nil
}

func collect(ch <-chan error) []error {
	var all []error
	for err := range ch {
		all = append(all, err)
	}
	return all
}

// drive plays one instance: the advocate registers, noise clicks arrive,
// then each friend clicks, signs up, uses the product, buys and refunds.
func (d *driver) drive(ctx context.Context, in *instance) error {
	code, err := d.upsertAdvocate(ctx, in.advocate)
	if err != nil {
		return err
	}
	for _, c := range in.noise {
		if _, err := d.click(ctx, in.arrival, code, c); err != nil {
			return err
		}
	}
	for i, f := range in.friends {
		cookie := ""
		for _, c := range f.clicks {
			v, err := d.click(ctx, in.arrival, code, c)
			if err != nil {
				return err
			}
			if v != "" {
				cookie = v
			}
		}
		if err := d.signup(ctx, in.arrival, f.p, code, cookie); err != nil {
			return err
		}
		for range f.activity {
			if err := d.activity(ctx, f.p); err != nil {
				return err
			}
		}
		if f.purchase {
			order := fmt.Sprintf("%s-o%d", in.advocate.id, i)
			if err := d.purchase(ctx, f.p, order, 4900); err != nil {
				return err
			}
			if f.refund {
				if err := d.refund(ctx, f.p, order, 4900); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
