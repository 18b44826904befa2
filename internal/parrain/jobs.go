package parrain

import (
	"fmt"
	"time"
)

// Job kinds and their payloads: the stable names and JSON shapes stored in
// the jobs table. The use cases enqueue them (in the transaction of the write
// that causes them) and register their handlers with the job runner.

// JobFinishContest is the job kind that picks a contest's winners.
const JobFinishContest = "contest.finish"

// FinishContestArgs is the payload of a JobFinishContest job.
type FinishContestArgs struct {
	ContestID string `json:"contest_id"`
}

// Job kinds of the CRM sync.
const (
	// JobCRMSyncReferral creates or updates the CRM contact and won deal of
	// a converted referral.
	JobCRMSyncReferral = "crm.sync_referral"
	// JobCRMSyncLead creates or updates the CRM company, contact and deal of
	// a partner's lead.
	JobCRMSyncLead = "crm.sync_lead"
	// JobCRMPoll polls the CRM for deal stage changes; it reschedules itself
	// while the program has a CRM connection.
	JobCRMPoll = "crm.poll"
)

// CRMReferralArgs is the payload of a JobCRMSyncReferral job.
type CRMReferralArgs struct {
	ProgramID  string `json:"program_id"`
	ReferralID string `json:"referral_id"`
	OrderID    string `json:"order_id"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
}

// CRMPollArgs is the payload of a JobCRMPoll job. Generation is the
// connection's updated_at (unix ms) when the polling loop started: a loop
// of an older setting stops.
type CRMPollArgs struct {
	ProgramID  string `json:"program_id"`
	Generation int64  `json:"generation"`
}

// JobFulfilReward is the job kind that delivers an approved non-cash reward.
const JobFulfilReward = "reward.fulfil"

// FulfilRewardArgs is the payload of a JobFulfilReward job.
type FulfilRewardArgs struct {
	RewardID string `json:"reward_id"`
}

// Job kinds of the notification pipeline (handlers in internal/notify).
const (
	// JobNotify composes one notice (in-app notification and email) from
	// NotifyArgs.
	JobNotify = "notify.event"
	// JobSendEmail sends one recorded email message (SendEmailArgs).
	JobSendEmail = "email.send"
	// JobNotifySweep finds approvals, payouts and new participants to
	// notify; it reschedules itself.
	JobNotifySweep = "notify.sweep"
	// JobReminders reminds advocates who have not shared; hourly.
	JobReminders = "notify.reminders"
)

// NotifyArgs is the payload of a JobNotify job: which notice, for whom,
// about what.
type NotifyArgs struct {
	Kind          NoticeKind `json:"kind"`
	ProgramID     string     `json:"program_id"`
	ParticipantID string     `json:"participant_id,omitempty"` // empty for invites
	ReferralID    string     `json:"referral_id,omitempty"`
	RewardID      string     `json:"reward_id,omitempty"`
	InviteID      string     `json:"invite_id,omitempty"`
	FiringID      string     `json:"firing_id,omitempty"`
	Sequence      int        `json:"sequence,omitempty"`   // reminders: 1st, 2nd
	ChangeID      string     `json:"change_id,omitempty"`  // a payout account change: each is told
	HeldUntil     *time.Time `json:"held_until,omitempty"` // until when payouts to a changed account wait
}

// SendEmailArgs is the payload of a JobSendEmail job.
type SendEmailArgs struct {
	MessageID string `json:"message_id"`
}

// Job kinds of the payout flow.
const (
	// JobPayoutSchedule runs a program's scheduled payout run and schedules
	// the next one.
	JobPayoutSchedule = "payout.schedule"
	// JobPayoutSend sends one approved payout to its provider.
	JobPayoutSend = "payout.send"
	// JobPayoutPoll asks the provider for the final status of a payout it
	// accepted asynchronously (PayPal).
	JobPayoutPoll = "payout.poll"
)

// PayoutScheduleArgs is the payload of a JobPayoutSchedule job.
type PayoutScheduleArgs struct {
	ProgramID string `json:"program_id"`
	At        int64  `json:"at"` // the slot, unix ms
}

// PayoutJobArgs is the payload of JobPayoutSend and JobPayoutPoll jobs.
type PayoutJobArgs struct {
	PayoutID string `json:"payout_id"`
}

// JobMatureReward is the job kind that approves a reward when its hold ends.
const JobMatureReward = "reward.mature"

// MatureRewardArgs is the payload of a JobMatureReward job.
type MatureRewardArgs struct {
	RewardID string `json:"reward_id"`
}

// JobWebhookDeliver delivers one outgoing webhook message (with its retries).
const JobWebhookDeliver = "webhook.deliver"

// WebhookDeliverArgs is the payload of a JobWebhookDeliver job.
type WebhookDeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// DedupeKey names the notice so that it happens once: the job's unique key,
// the notification's and the email's dedupe key derive from it.
func (a NotifyArgs) DedupeKey() string {
	switch {
	case a.Kind == NoticeInvite:
		return "invite:" + a.InviteID
	case a.Kind == NoticeMoment:
		return "moment:" + a.FiringID
	case a.ChangeID != "":
		return string(a.Kind) + ":" + a.ChangeID
	case a.RewardID != "":
		return string(a.Kind) + ":" + a.RewardID
	case a.ReferralID != "":
		return string(a.Kind) + ":" + a.ReferralID
	case a.Sequence > 0:
		return fmt.Sprintf("%s:%s:%d", a.Kind, a.ParticipantID, a.Sequence)
	}
	return string(a.Kind) + ":" + a.ParticipantID
}
