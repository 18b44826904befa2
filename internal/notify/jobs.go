package notify

import (
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
)

// RegisterJobs installs the notification handlers: composing notices,
// sending emails, and the recurring sweep and reminder jobs.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(parrain.JobNotify, s.HandleNotify)
	r.Handle(parrain.JobSendEmail, s.HandleSend)
	r.Handle(parrain.JobNotifySweep, s.HandleSweep)
	r.Handle(parrain.JobReminders, s.HandleReminders)
}
