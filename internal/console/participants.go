package console

import (
	"net/http"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// participantsData is the participant list or search result.
type participantsData struct {
	Query        string
	Participants []parrain.Participant
	Next         string
	Searched     bool
}

// Participants serves GET /admin/participants: the newest participants of
// the program, or those matching ?q= (name, email, external id or code).
func (c *Console) Participants(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Participants", Nav: "participants", Auth: a, Programs: all, Program: prog}
	d := participantsData{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if prog != nil {
		if d.Query != "" {
			d.Searched = true
			d.Participants, err = c.st.SearchParticipants(r.Context(), prog.ID, d.Query, 50)
		} else {
			pg, perr := listPage(r)
			if perr != nil {
				c.fail(w, r, a, perr)
				return
			}
			d.Participants, d.Next, err = c.st.ParticipantsPage(r.Context(), prog.ID, pg)
		}
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "participants", v)
}

// listPage reads ?cursor= for keyset pages of 50.
func listPage(r *http.Request) (store.Page, error) {
	cur := r.URL.Query().Get("cursor")
	if len(cur) > 120 {
		return store.Page{}, parrain.Invalid("cursor", "is not a cursor from a previous page")
	}
	return store.Page{Limit: 50, Cursor: cur}, nil
}

// participantData is a participant's page.
type participantData struct {
	P          parrain.Participant
	Link       string
	Stats      store.Stats
	ReferredBy *store.ReferralRow
	Referred   []store.ReferralRow
	MoreRefs   string
	Rewards    []parrain.Reward
	MoreRwds   string
	Timeline   []store.TimelineItem
	Balances   []balance
}

type balance struct {
	Bucket   string
	Currency string
	Amount   int64
}

// Participant serves GET /admin/participants/{id}: their link, the chain
// (who referred them, whom they referred), stats, balance, rewards and a
// timeline of what happened.
func (c *Console) Participant(w http.ResponseWriter, r *http.Request, a *Auth) {
	ctx := r.Context()
	p, err := c.st.ParticipantByID(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	all, _, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	var prog *parrain.Program
	for i := range all {
		if all[i].ID == p.ProgramID {
			prog = &all[i]
		}
	}
	d := participantData{P: p, Link: strings.TrimRight(c.opt.BaseURL, "/") + "/r/" + p.Code}
	if d.Stats, err = c.st.ParticipantStats(ctx, p.ID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	for _, bucket := range []string{string(parrain.BucketPending), string(parrain.BucketApproved), string(parrain.BucketPaid)} {
		for cur, v := range d.Stats.Balances[bucket] {
			d.Balances = append(d.Balances, balance{Bucket: bucket, Currency: cur, Amount: v})
		}
	}
	if by, err := c.st.ReferralOfFriend(ctx, p.ProgramID, p.ID); err == nil {
		d.ReferredBy = &by
	} else if parrain.ErrorCode(err) != parrain.CodeNotFound {
		c.fail(w, r, a, err)
		return
	}
	if d.Referred, d.MoreRefs, err = c.st.ReferralsPage(ctx, store.ReferralQuery{ProgramID: p.ProgramID, AdvocateID: p.ID},
		store.Page{Limit: 50}); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Rewards, d.MoreRwds, err = c.st.ParticipantRewards(ctx, p.ID, "", store.Page{Limit: 50}); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Timeline, err = c.st.ParticipantTimeline(ctx, p, 100); err != nil {
		c.fail(w, r, a, err)
		return
	}
	title := p.Name
	if title == "" {
		title = p.ExternalID
	}
	c.render(w, r, http.StatusOK, "participant", view{Title: title, Nav: "participants", Auth: a, Programs: all, Program: prog, Data: d})
}
