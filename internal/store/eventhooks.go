package store

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// moment handles the moment events (nps, rating, plan_upgrade, milestone,
// custom): the participant is created or refreshed like a signup's friend;
// the triggers run in afterEvent.
func (in *ingest) moment(ctx context.Context) error {
	return in.upsertFriend(ctx)
}

// afterEvent runs in the event's transaction once its main effects are
// applied: it links the friend's landing-page consent, enqueues the
// notices the event causes (friend signed up, rewards earned) and fires
// the moment triggers. Notices are enqueued with unique keys, so an event
// that meets an existing referral enqueues nothing new.
func (in *ingest) afterEvent(ctx context.Context) error {
	if in.friend != nil && in.ev.ConsentID != "" {
		if err := in.s.linkConsentTx(ctx, in.tx, in.prog.ID, in.ev.ConsentID, in.friend.ID); err != nil {
			return err
		}
	}
	// A referral made by this event (or by one a moment ago, which already
	// enqueued the same, unique notice).
	if r := in.referral; r != nil && r.Status != parrain.ReferralRejected && r.CreatedAt.After(in.s.clock.Now().Add(-time.Minute)) {
		if err := in.s.enqueueNotifyTx(ctx, in.tx, NotifyArgs{Kind: parrain.NoticeFriendSignedUp, ProgramID: in.prog.ID,
			ParticipantID: r.AdvocateID, ReferralID: r.ID}); err != nil {
			return err
		}
	}
	for _, rw := range in.res.Rewards {
		if err := in.s.enqueueNotifyTx(ctx, in.tx, NotifyArgs{Kind: parrain.NoticeRewardEarned, ProgramID: in.prog.ID,
			ParticipantID: rw.ParticipantID, RewardID: rw.ID}); err != nil {
			return err
		}
	}
	return in.fireMoments(ctx)
}
