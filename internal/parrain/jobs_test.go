package parrain

import "testing"

// A notice happens once: its dedupe key names it whatever else the payload
// carries.
func TestNotifyArgsDedupeKey(t *testing.T) {
	tests := []struct {
		args NotifyArgs
		want string
	}{
		{NotifyArgs{Kind: NoticeInvite, InviteID: "inv_1", ParticipantID: "par_1"}, "invite:inv_1"},
		{NotifyArgs{Kind: NoticeMoment, FiringID: "fir_1", ParticipantID: "par_1"}, "moment:fir_1"},
		{NotifyArgs{Kind: NoticeRewardPaid, RewardID: "rwd_1", ReferralID: "ref_1", ParticipantID: "par_1"}, "reward_paid:rwd_1"},
		{NotifyArgs{Kind: NoticeFriendSignedUp, ReferralID: "ref_1", ParticipantID: "par_1"}, "friend_signed_up:ref_1"},
		{NotifyArgs{Kind: NoticeReminder, ParticipantID: "par_1", Sequence: 2}, "reminder:par_1:2"},
		{NotifyArgs{Kind: NoticeWelcome, ParticipantID: "par_1"}, "welcome:par_1"},
	}
	for _, tt := range tests {
		if got := tt.args.DedupeKey(); got != tt.want {
			t.Errorf("%+v: DedupeKey() = %q, want %q", tt.args, got, tt.want)
		}
	}
}
