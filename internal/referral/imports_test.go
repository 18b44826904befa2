package referral_test

import (
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// A file that cannot be an import is refused whole, with the field at
// fault, and stores nothing.
func TestStartImportRefusesFiles(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		for _, c := range []struct {
			name, prog, format, body string
			code                     parrain.Code
			field                    string
		}{
			{"unknown format", prog.ID, "xml", "<a/>", parrain.CodeInvalid, "format"},
			{"unknown program", "prg_none", referral.FormatCSV, "external_id\na\n", parrain.CodeNotFound, ""},
			{"empty CSV", prog.ID, referral.FormatCSV, "", parrain.CodeInvalid, "body"},
			{"unknown column", prog.ID, referral.FormatCSV, "external_id,phone\na,1\n", parrain.CodeInvalid, "body"},
			{"no external_id column", prog.ID, referral.FormatCSV, "email,name\na@example.com,A\n", parrain.CodeInvalid, "body"},
			{"empty JSON lines", prog.ID, referral.FormatJSONL, "", parrain.CodeInvalid, "body"},
		} {
			_, _, err := e.Ref.StartImport(ctx, referral.ImportRequest{ProgramID: c.prog, Format: c.format, Body: strings.NewReader(c.body)})
			wantField(t, c.name, err, c.code, c.field)
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM participant_imports`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d imports stored", n)
		}
	})
}

// A JSON-lines import: each line checked on reading (bad JSON, unknown
// fields, wrong types, invalid values and repeats rejected with their line
// number and field), then the job creates, updates or leaves alone the
// accepted participants; a dry run counts the same and changes nothing;
// the same request replays, another file under the same key conflicts.
func TestJSONLinesImport(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		e.Advocate(prog.ID, "ann", "ann@example.com")
		e.Advocate(prog.ID, "bob", "bob@example.com")
		file := strings.Join([]string{
			`{"external_id":"ann","email":"ann@example.com"}`,                // 1: unchanged
			`{"external_id":"bob","email":"bob@example.com","name":"Bob B"}`, // 2: updated
			``, // 3: blank, skipped
			`{"external_id":"cid","email":"cid@example.com","name":"Cid","attributes":{"plan":"pro"}}`, // 4: created
			`{"external_id":"dan","email":"not-an-email"}`,                                             // 5: email
			`{"external_id":"eve","phone":"123"}`,                                                      // 6: unknown field
			`{"external_id":"fay","do_not_sell":"maybe"}`,                                              // 7: wrong type
			`{"external_id":"cid","email":"cid2@example.com"}`,                                         // 8: repeated id
			`not json`, // 9
		}, "\n") + "\n"
		want := []store.ImportRow{{Row: 5, Field: "email"}, {Row: 6, Field: "body"}, {Row: 7, Field: "do_not_sell"}, {Row: 8, Field: "external_id"}, {Row: 9, Field: "body"}}
		participants := func() int {
			var n int
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM participants WHERE program_id = $1`, prog.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		start := func(dry bool, key, body string) (store.ParticipantImport, bool, error) {
			return e.Ref.StartImport(ctx, referral.ImportRequest{ProgramID: prog.ID, Format: referral.FormatJSONL, DryRun: dry, Body: strings.NewReader(body),
				Idem: store.Idem{Scope: "test", Key: key, Hash: "POST /imports"}})
		}
		run := func(im store.ParticipantImport) (store.ParticipantImport, []store.ImportRow) {
			t.Helper()
			for i := 0; ; i++ {
				more, err := e.Ref.RunImport(ctx, im.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !more {
					break
				}
				if i > 10 {
					t.Fatal("the import never ends")
				}
			}
			got, rej, err := e.Ref.Import(ctx, prog.ID, im.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			return got, rej
		}
		for _, dry := range []bool{true, false} {
			key := map[bool]string{true: "imp-dry", false: "imp-1"}[dry]
			im, replay, err := start(dry, key, file)
			if err != nil {
				t.Fatalf("dry=%v: %v", dry, err)
			}
			if replay || im.Status != store.ImportQueued || im.DryRun != dry || im.Format != referral.FormatJSONL || im.TotalRows != 8 || im.Rejected != 5 {
				t.Fatalf("dry=%v queued: %+v replay=%v", dry, im, replay)
			}
			got, rej := run(im)
			if got.Status != store.ImportDone || got.Processed != 8 || got.Created != 1 || got.Updated != 1 || got.Unchanged != 1 || got.Rejected != 5 || got.FinishedAt == nil {
				t.Errorf("dry=%v done: %+v", dry, got)
			}
			if len(rej) != len(want) {
				t.Fatalf("dry=%v rejected %+v", dry, rej)
			}
			for i, r := range rej {
				if r.Row != want[i].Row || r.Field != want[i].Field || r.Message == "" {
					t.Errorf("dry=%v rejected line %d: %+v, want %+v", dry, i, r, want[i])
				}
			}
			if page, err := e.Ref.ImportRejections(ctx, im.ID, 6, 2); err != nil || len(page) != 2 || page[0].Row != 7 || page[1].Row != 8 {
				t.Errorf("dry=%v rejections after line 6: %+v %v", dry, page, err)
			}
			wantN := map[bool]int{true: 2, false: 3}[dry]
			if n := participants(); n != wantN {
				t.Errorf("dry=%v: %d participants, want %d", dry, n, wantN)
			}
		}
		cid, err := e.St.Participant(ctx, prog.ID, "cid")
		if err != nil {
			t.Fatal(err)
		}
		if cid.Email != "cid@example.com" || cid.Name != "Cid" {
			t.Errorf("cid imported as %+v", cid)
		}
		bob, err := e.St.Participant(ctx, prog.ID, "bob")
		if err != nil || bob.Name != "Bob B" {
			t.Errorf("bob updated as %+v %v", bob, err)
		}

		again, replay, err := start(false, "imp-1", file)
		if err != nil || !replay {
			t.Fatalf("replay: %+v %v %v", again, replay, err)
		}
		if _, _, err := start(false, "imp-1", file+`{"external_id":"gus"}`+"\n"); parrain.ErrorCode(err) != parrain.CodeIdempotencyReuse {
			t.Fatalf("another file under the same key: %v", err)
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM participant_imports WHERE program_id = $1`, prog.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("%d imports stored, want 2", n)
		}
	})
}
