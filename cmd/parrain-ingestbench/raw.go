package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The raw program: the least a durable, idempotent ingestion does per
// request — an idempotency row, an event row, a ledger row and the
// advocate's balance — group-committed by one writer: it takes every
// request waiting (up to maxBatch), writes them in one transaction with
// prepared statements and answers each after the commit.

const maxBatch = 512

const rawSchema = `
CREATE TABLE idem (scope TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, response TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE events (id TEXT PRIMARY KEY, external_id TEXT NOT NULL, code TEXT NOT NULL, payload TEXT NOT NULL, occurred_at BIGINT NOT NULL);
CREATE TABLE ledger (id TEXT PRIMARY KEY, code TEXT NOT NULL, amount BIGINT NOT NULL, event_id TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE balances (code TEXT PRIMARY KEY, amount BIGINT NOT NULL)`

type rawReq struct {
	key, code, extID, payload string
	done                      chan rawAnswer
}

type rawAnswer struct {
	body string
	err  error
}

type rawServer struct {
	db    *sql.DB   // SQLite
	pg    *pgx.Conn // PostgreSQL: batches are pipelined (pgx.Batch), one round trip per commit
	queue chan *rawReq
	seq   atomic.Int64
}

func startRaw(ctx context.Context, engine, dsn string) (*server, error) {
	var db *sql.DB
	var err error
	if engine == "sqlite" {
		db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var pg *pgx.Conn
	if engine == "postgres" {
		if pg, err = pgx.Connect(ctx, dsn); err != nil {
			db.Close()
			return nil, err
		}
	}
	for _, stmt := range strings.Split(rawSchema, ";") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("creating the raw schema: %w", err)
		}
	}
	rs := &rawServer{db: db, pg: pg, queue: make(chan *rawReq, 4096)}
	wctx, stop := context.WithCancel(context.Background())
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		if pg != nil {
			rs.pgWriter(wctx)
		} else {
			rs.writer(wctx)
		}
	}()
	u, closeHTTP, err := listen(http.HandlerFunc(rs.serve))
	if err != nil {
		stop()
		db.Close()
		return nil, err
	}
	return &server{url: u + "/events", close: func() {
		closeHTTP()
		stop()
		<-wdone
		if pg != nil {
			pg.Close(context.Background())
		}
		db.Close()
	}}, nil
}

func (rs *rawServer) serve(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		Type         string `json:"type"`
		ExternalID   string `json:"external_id"`
		Email        string `json:"email"`
		ReferralCode string `json:"referral_code"`
		OrderID      string `json:"order_id"`
		Amount       int64  `json:"amount"`
		Currency     string `json:"currency"`
	}
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	payload, _ := json.Marshal(ev)
	req := &rawReq{key: r.Header.Get("Idempotency-Key"), code: ev.ReferralCode, extID: ev.ExternalID, payload: string(payload), done: make(chan rawAnswer, 1)}
	rs.queue <- req
	a := <-req.done
	if a.err != nil {
		http.Error(w, a.err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(a.body))
}

// next waits for a request and takes every other one waiting, up to
// maxBatch.
func (rs *rawServer) next(ctx context.Context, batch []*rawReq) ([]*rawReq, bool) {
	batch = batch[:0]
	select {
	case <-ctx.Done():
		return nil, false
	case r := <-rs.queue:
		batch = append(batch, r)
	}
	for len(batch) < maxBatch {
		select {
		case r := <-rs.queue:
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}

// pgWriter is writer on PostgreSQL: the batch's statements are sent in one
// pipeline inside the transaction. A request whose Idempotency-Key exists
// is answered with the stored response (its writes are skipped by the
// WHERE clauses, in the same pipeline).
func (rs *rawServer) pgWriter(ctx context.Context) {
	batch := make([]*rawReq, 0, maxBatch)
	for {
		var ok bool
		if batch, ok = rs.next(ctx, batch); !ok {
			return
		}
		now := time.Now().UnixMilli()
		bodies := make([]string, len(batch))
		err := pgx.BeginFunc(ctx, rs.pg, func(tx pgx.Tx) error {
			var b pgx.Batch
			for i, r := range batch {
				id := fmt.Sprintf("evt_%d", rs.seq.Add(1))
				bodies[i] = `{"event_id":"` + id + `","credited":"` + r.code + `","amount":500}`
				b.Queue(`INSERT INTO idem (scope, key, hash, response, created_at) VALUES ('raw', $1, '', $2, $3) ON CONFLICT DO NOTHING`, r.key, bodies[i], now)
				b.Queue(`INSERT INTO events (id, external_id, code, payload, occurred_at) SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM idem WHERE scope = 'raw' AND key = $6 AND response = $7)`, id, r.extID, r.code, r.payload, now, r.key, bodies[i])
				b.Queue(`INSERT INTO ledger (id, code, amount, event_id, created_at) SELECT $1, $2, 500, $3, $4 WHERE EXISTS (SELECT 1 FROM events WHERE id = $3)`, "led_"+id, r.code, id, now)
				b.Queue(`INSERT INTO balances (code, amount) SELECT $1, 500 WHERE EXISTS (SELECT 1 FROM events WHERE id = $2) ON CONFLICT (code) DO UPDATE SET amount = balances.amount + 500`, r.code, id)
				b.Queue(`SELECT response FROM idem WHERE scope = 'raw' AND key = $1`, r.key).QueryRow(func(row pgx.Row) error { return row.Scan(&bodies[i]) })
			}
			return tx.SendBatch(ctx, &b).Close()
		})
		for i, r := range batch {
			r.done <- rawAnswer{body: bodies[i], err: err}
		}
	}
}

func (rs *rawServer) writer(ctx context.Context) {
	// Prepared on the pool of one connection, so that tx.Stmt reuses them.
	prep := func(q string) *sql.Stmt {
		s, err := rs.db.PrepareContext(ctx, q)
		if err != nil {
			panic(err)
		}
		return s
	}
	insIdem := prep(`INSERT INTO idem (scope, key, hash, response, created_at) VALUES ('raw', $1, '', '', $2) ON CONFLICT DO NOTHING`)
	getIdem := prep(`SELECT response FROM idem WHERE scope = 'raw' AND key = $1`)
	insEvent := prep(`INSERT INTO events (id, external_id, code, payload, occurred_at) VALUES ($1, $2, $3, $4, $5)`)
	insLedger := prep(`INSERT INTO ledger (id, code, amount, event_id, created_at) VALUES ($1, $2, 500, $3, $4)`)
	upBalance := prep(`INSERT INTO balances (code, amount) VALUES ($1, 500) ON CONFLICT (code) DO UPDATE SET amount = balances.amount + 500`)
	setIdem := prep(`UPDATE idem SET response = $1 WHERE scope = 'raw' AND key = $2`)
	batch := make([]*rawReq, 0, maxBatch)
	answers := make([]rawAnswer, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case r := <-rs.queue:
			batch = append(batch, r)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-rs.queue:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		answers = answers[:0]
		err := func() error {
			tx, err := rs.db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			now := time.Now().UnixMilli()
			for _, r := range batch {
				res, err := tx.Stmt(insIdem).Exec(r.key, now)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					var body string
					if err := tx.Stmt(getIdem).QueryRow(r.key).Scan(&body); err != nil {
						return err
					}
					answers = append(answers, rawAnswer{body: body})
					continue
				}
				id := fmt.Sprintf("evt_%d", rs.seq.Add(1))
				if _, err := tx.Stmt(insEvent).Exec(id, r.extID, r.code, r.payload, now); err != nil {
					return err
				}
				if _, err := tx.Stmt(insLedger).Exec("led_"+id, r.code, id, now); err != nil {
					return err
				}
				if _, err := tx.Stmt(upBalance).Exec(r.code); err != nil {
					return err
				}
				body := `{"event_id":"` + id + `","credited":"` + r.code + `","amount":500}`
				if _, err := tx.Stmt(setIdem).Exec(body, r.key); err != nil {
					return err
				}
				answers = append(answers, rawAnswer{body: body})
			}
			return tx.Commit()
		}()
		for i, r := range batch {
			if err != nil {
				r.done <- rawAnswer{err: err}
			} else {
				r.done <- answers[i]
			}
		}
	}
}
