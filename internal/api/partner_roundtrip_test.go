package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/store"
)

// TestPartnerProgramRoundTrip: the document GET …/partner-program answers
// is accepted as is by PUT (read-only fields such as the program's name and
// currency included), and a change made to it is saved.
func TestPartnerProgramRoundTrip(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		path := "/api/v1/programs/" + p.ID + "/partner-program"
		e.partnerProgram(p.ID)
		var first, put, again store.PartnerProgram
		got := e.ok(http.StatusOK, "GET", path, "", "", &first).Body.String()
		e.ok(http.StatusOK, "PUT", path, "", got, &put)
		after := e.ok(http.StatusOK, "GET", path, "", "", &again).Body.String()
		if after != got {
			t.Errorf("the round trip changed the document:\nbefore %s\nafter  %s", got, after)
		}
		// A change to the fetched document is saved.
		var doc map[string]any
		if err := json.Unmarshal([]byte(got), &doc); err != nil {
			t.Fatal(err)
		}
		doc["window_days"] = 60
		edited, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		e.ok(http.StatusOK, "PUT", path, "", string(edited), &put)
		if put.WindowDays != 60 || put.Currency != "EUR" || len(put.Tiers) != 2 {
			t.Errorf("edited %+v", put)
		}
	})
}
