package fraud

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

const (
	uaChromeWin = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	uaIPhone    = "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Mobile/15E148 Safari/604.1"
	uaAndroid   = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// quietBaseline is an advocate with about one referral a week.
var quietBaseline = Velocity{}.UpdateAll([]int{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})

// programBaseline is a program where an active advocate gets one or two
// signups an hour.
var programBaseline = Velocity{}.UpdateAll([]int{1, 1, 2, 1, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1})

// cleanReferral is an unremarkable referral between two unrelated people.
func cleanReferral() Referral {
	return Referral{
		At:   t0,
		Code: "JEAN42",
		Advocate: Party{
			ExternalID: "cus_1", Email: "jean.dupont@gmail.com", Name: "Jean Dupont",
			IP: "203.0.113.10", RecentIPs: []string{"80.215.12.9"}, UserAgent: uaChromeWin,
			DeviceID: "dev_adv", PaymentFingerprint: "fp_adv", Address: "12 rue de la Paix, Paris", Country: "FR",
		},
		Friend: Party{
			ExternalID: "cus_2", Email: "marie.curie@outlook.com", Name: "Marie Curie",
			IP: "198.51.100.20", UserAgent: uaIPhone, DeviceID: "dev_fri", Country: "FR", SignedUpAt: t0,
		},
		Click: &Click{
			At: t0.Add(-10 * time.Minute), IP: "198.51.100.20", UserAgent: uaIPhone,
			Referer: "https://l.facebook.com/", LandingURL: "https://shop.example/r/JEAN42?utm_source=referral&utm_medium=share",
		},
		RecentClicks: []Click{
			{At: t0.Add(-10 * time.Minute), IP: "198.51.100.20", UserAgent: uaIPhone},
			{At: t0.Add(-30 * time.Minute), IP: "192.0.2.33", UserAgent: uaAndroid},
			{At: t0.Add(-31 * time.Minute), IP: "192.0.2.99", UserAgent: "WhatsApp/2.25.21.80 A"},
		},
		AdvocateHistory: History{Hourly: quietBaseline, ThisHour: 1, Referrals: 4, InactiveReferrals: 1},
		ProgramHourly:   programBaseline,
	}
}

func clicks(n int, f func(i int) Click) []Click {
	out := make([]Click, n)
	for i := range out {
		out[i] = f(i)
		if out[i].At.IsZero() {
			out[i].At = t0.Add(-time.Duration(i+1) * time.Minute / 2)
		}
	}
	return out
}

func TestDetectors(t *testing.T) {
	tests := []struct {
		name   string
		lists  Lists
		tuning Tuning
		mutate func(r *Referral)
		want   []Code
	}{
		{name: "clean referral", mutate: func(r *Referral) {}},

		// Self-referral.
		{name: "same external id", mutate: func(r *Referral) { r.Friend.ExternalID = " cus_1" }, want: []Code{SelfSameAccount}},
		{name: "gmail dots, +tag and googlemail", mutate: func(r *Referral) { r.Friend.Email = "J.E.A.N.dupont+ref@googlemail.com" }, want: []Code{SelfSameEmail}},
		{name: "+tag on any provider", mutate: func(r *Referral) {
			r.Advocate.Email = "jean.dupont@acme.example"
			r.Friend.Email = "jean.dupont+2@ACME.example"
		}, want: []Code{SelfSameEmail}},
		{name: "same words, digits added", mutate: func(r *Referral) { r.Friend.Email = "jeandupont84@yahoo.fr" }, want: []Code{SelfSimilarEmail}},
		{name: "same words, reordered", mutate: func(r *Referral) { r.Friend.Email = "dupont.jean@yahoo.fr" }, want: []Code{SelfSimilarEmail}},
		{name: "friend email built from advocate's name", mutate: func(r *Referral) {
			r.Advocate.Email = "lolo1234@gmail.com"
			r.Friend.Email = "jean.dupont@outlook.com"
		}, want: []Code{SelfSimilarEmail}},
		{name: "two Maries are not similar", mutate: func(r *Referral) {
			r.Advocate.Email, r.Advocate.Name = "marie92@gmail.com", "Marie Dupont"
			r.Friend.Email = "marie1985@outlook.com"
		}},
		{name: "same name on free providers", mutate: func(r *Referral) {
			r.Friend.Name, r.Friend.Email = "DUPONT Jean", "jd.pro@gmail.com"
		}, want: []Code{SelfSameName}},
		{name: "same name, same company domain", mutate: func(r *Referral) {
			r.Advocate.Email = "jean@dupont-family.fr"
			r.Friend.Name, r.Friend.Email = "Jean Dupont", "jd@mail.dupont-family.fr"
		}, want: []Code{SelfSameNameDomain}},
		{name: "colleagues on one company domain", mutate: func(r *Referral) {
			r.Advocate.Email = "jean.dupont@acme.example"
			r.Friend.Email = "marie.curie@acme.example"
		}},
		{name: "same name, same address", mutate: func(r *Referral) {
			r.Friend.Name, r.Friend.Email = "Jean Dupont", "jd.pro@gmail.com"
			r.Friend.Address = "12, Rue de la Paix — PARIS"
		}, want: []Code{SelfSameNameAddress}},
		{name: "same address, different names (household)", mutate: func(r *Referral) {
			r.Friend.Address = r.Advocate.Address
		}},
		{name: "same payment instrument", mutate: func(r *Referral) { r.Friend.PaymentFingerprint = "fp_adv" }, want: []Code{SelfSamePayment}},
		{name: "same device", mutate: func(r *Referral) { r.Friend.DeviceID = "dev_adv" }, want: []Code{SelfSameDevice}},
		{name: "blank ids never match", mutate: func(r *Referral) {
			r.Advocate.ExternalID, r.Friend.ExternalID = " ", " "
			r.Advocate.DeviceID, r.Friend.DeviceID = "", ""
		}},

		// Network.
		{name: "friend on the advocate's recent IP", mutate: func(r *Referral) { r.Friend.IP = "80.215.12.9" }, want: []Code{NetSameIP}},
		{name: "friend clicked from the advocate's IP", mutate: func(r *Referral) { r.Click.IP = "203.0.113.10" }, want: []Code{NetSameIP}},
		{name: "same /24", mutate: func(r *Referral) { r.Friend.IP, r.Click.IP = "203.0.113.77", "203.0.113.77" }, want: []Code{NetSameSubnet}},
		{name: "same IPv6 /64", mutate: func(r *Referral) {
			r.Advocate.IP = "2a01:e0a:1:2:aaaa::1"
			r.Friend.IP, r.Click.IP = "2a01:e0a:1:2:bbbb::9", "2a01:e0a:1:2:bbbb::9"
		}, want: []Code{NetSameSubnet}},
		{name: "same IP and User-Agent", mutate: func(r *Referral) {
			r.Friend.IP, r.Friend.UserAgent = "203.0.113.10", uaChromeWin
		}, want: []Code{NetSameIP, NetSameUserAgent}},
		{name: "same User-Agent, unrelated networks", mutate: func(r *Referral) { r.Friend.UserAgent = uaChromeWin }},
		{name: "shared private address means nothing", mutate: func(r *Referral) {
			r.Advocate.IP, r.Friend.IP, r.Click.IP = "10.0.0.5", "10.0.0.5", "10.0.0.5"
			r.Advocate.RecentIPs = nil
		}},
		{name: "click flood from one IP", mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(12, func(int) Click { return Click{IP: "192.0.2.200", UserAgent: uaAndroid} })...)
		}, want: []Code{NetClickFloodIP}},
		{name: "11 clicks from one IP is under the threshold", mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(11, func(int) Click { return Click{IP: "192.0.2.200", UserAgent: uaAndroid} })...)
		}},
		{name: "tuned threshold", tuning: Tuning{ClickFloodPerIP: 5}, mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(5, func(int) Click { return Click{IP: "192.0.2.200", UserAgent: uaAndroid} })...)
		}, want: []Code{NetClickFloodIP}},
		{name: "old clicks are outside the window", mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(30, func(i int) Click {
				return Click{At: t0.Add(-2 * time.Hour), IP: "192.0.2.200", UserAgent: uaAndroid}
			})...)
		}},
		{name: "link previews are not a flood", mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(40, func(int) Click {
				return Click{IP: "192.0.2.201", UserAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}
			})...)
		}},
		{name: "one User-Agent across many IPs", mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(25, func(i int) Click {
				return Click{IP: fmt.Sprintf("192.0.2.%d", i+1), UserAgent: uaChromeWin + " Farm/1"}
			})...)
		}, want: []Code{NetClickFloodUA}},
		{name: "popular advocate with diverse traffic", mutate: func(r *Referral) {
			uas := []string{uaChromeWin, uaIPhone, uaAndroid, uaChromeWin + " Edg/142", "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0"}
			r.RecentClicks = append(r.RecentClicks, clicks(100, func(i int) Click {
				return Click{IP: fmt.Sprintf("192.0.%d.%d", i/50, i%50+1), UserAgent: uas[i%len(uas)]}
			})...)
		}},
		{name: "scripted clicks", mutate: func(r *Referral) {
			r.RecentClicks = append(r.RecentClicks, clicks(5, func(i int) Click {
				return Click{IP: fmt.Sprintf("192.0.2.%d", i+1), UserAgent: []string{"curl/8.7.1", "", "python-requests/2.32"}[i%3]}
			})...)
		}, want: []Code{NetAutomatedClicks}},
		{name: "attributed click from a script", mutate: func(r *Referral) { r.Click.UserAgent = "Go-http-client/2.0" }, want: []Code{NetBotClick}},
		{name: "attributed click without User-Agent", mutate: func(r *Referral) { r.Click.UserAgent = "" }, want: []Code{NetBotClick}},
		{name: "headless signup", mutate: func(r *Referral) {
			r.Friend.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36"
		}, want: []Code{NetBotSignup}},
		{name: "unknown signup User-Agent is not a bot", mutate: func(r *Referral) { r.Friend.UserAgent = "" }},
		{name: "datacenter range", lists: Lists{DatacenterRanges: []string{"198.51.100.0/24"}}, mutate: func(r *Referral) {}, want: []Code{NetDatacenterIP}},
		{name: "Tor exit", lists: Lists{TorExitRanges: []string{"198.51.100.20"}}, mutate: func(r *Referral) {}, want: []Code{NetTorExit}},

		// Identity.
		{name: "disposable domain", mutate: func(r *Referral) { r.Friend.Email = "marie.curie@mailinator.com" }, want: []Code{IDDisposableEmail}},
		{name: "disposable subdomain", mutate: func(r *Referral) { r.Friend.Email = "marie.curie@eu.mailinator.com" }, want: []Code{IDDisposableEmail}},
		{name: "operator-added disposable domain", lists: Lists{ExtraDisposableDomains: []string{"throwaway.example"}},
			mutate: func(r *Referral) { r.Friend.Email = "marie@mx.throwaway.example" }, want: []Code{IDDisposableEmail}},
		{name: "operator exemption", lists: Lists{AllowedDomains: []string{"mailinator.com"}},
			mutate: func(r *Referral) { r.Friend.Email = "marie.curie@mailinator.com" }},
		{name: "random local part", mutate: func(r *Referral) { r.Friend.Email = "x7qk2mz9wpl@gmail.com" }, want: []Code{IDRandomEmail}},
		{name: "Apple relay addresses are random by design", mutate: func(r *Referral) { r.Friend.Email = "x7qk2mz9wpl@privaterelay.appleid.com" }},
		{name: "blocked email wildcard", lists: Lists{BlockedEmails: []string{"*@competitor.example"}},
			mutate: func(r *Referral) { r.Friend.Email = "bob@competitor.example" }, want: []Code{IDBlockedEmail}},
		{name: "blocked email matches normalized variants", lists: Lists{BlockedEmails: []string{"Fraudster@gmail.com"}},
			mutate: func(r *Referral) { r.Friend.Email = "f.r.a.u.d.s.t.e.r+1@gmail.com" }, want: []Code{IDBlockedEmail}},
		{name: "blocked advocate email", lists: Lists{BlockedEmails: []string{"jean.dupont@gmail.com"}},
			mutate: func(r *Referral) {}, want: []Code{IDBlockedEmail}},
		{name: "blocked domain and subdomains", lists: Lists{BlockedDomains: []string{"@spam.example"}},
			mutate: func(r *Referral) { r.Friend.Email = "marie@eu.spam.example" }, want: []Code{IDBlockedDomain}},
		{name: "blocked IP range", lists: Lists{BlockedIPs: []string{"198.51.100.0/24"}}, mutate: func(r *Referral) {}, want: []Code{IDBlockedIP}},
		{name: "blocked country", lists: Lists{BlockedCountries: []string{"kp"}}, mutate: func(r *Referral) { r.Friend.Country = "KP" }, want: []Code{IDBlockedCountry}},

		// Behaviour.
		{name: "velocity burst", mutate: func(r *Referral) {
			r.AdvocateHistory.ThisHour = 9
			r.Friend.Email = "tigerlily77@outlook.com" // not made of her name
		}, want: []Code{BehVelocityBurst}},
		{name: "a newsletter's burst: the friend's address is her own name", mutate: func(r *Referral) { r.AdvocateHistory.ThisHour = 9 }},
		{name: "busy advocate's normal hour", mutate: func(r *Referral) {
			r.AdvocateHistory.Hourly = Velocity{}.UpdateAll([]int{6, 9, 7, 8, 10, 6, 8, 9, 7, 8})
			r.AdvocateHistory.ThisHour = 9
		}},
		{name: "four signups is never a burst", mutate: func(r *Referral) { r.AdvocateHistory.ThisHour = 4 }},
		{name: "no program baseline: advocate's alone decides", mutate: func(r *Referral) {
			r.ProgramHourly = Velocity{}
			r.AdvocateHistory.ThisHour = 6
			r.Friend.Email = "tigerlily77@outlook.com"
		}, want: []Code{BehVelocityBurst}},
		{name: "busy program", mutate: func(r *Referral) {
			r.ProgramHourly = Velocity{Mean: 8, Var: 9, Hours: 500}
			r.AdvocateHistory.ThisHour = 9
		}},
		{name: "no activity a week after signup", mutate: func(r *Referral) {
			r.Friend.SignedUpAt = t0.Add(-10 * 24 * time.Hour)
			r.FriendActivity = &Activity{}
		}, want: []Code{BehNoActivity}},
		{name: "too early to judge inactivity", mutate: func(r *Referral) {
			r.Friend.SignedUpAt = t0.Add(-3 * 24 * time.Hour)
			r.FriendActivity = &Activity{}
		}},
		{name: "active friend", mutate: func(r *Referral) {
			r.Friend.SignedUpAt = t0.Add(-10 * 24 * time.Hour)
			r.FriendActivity = &Activity{Events: 3, LastSeen: t0}
		}},
		{name: "advocate's friends are mostly inactive", mutate: func(r *Referral) {
			r.AdvocateHistory.Referrals, r.AdvocateHistory.InactiveReferrals = 5, 4
		}, want: []Code{BehInactiveReferrals}},
		{name: "refund four days after reward", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-7 * 24 * time.Hour), RewardedAt: t0.Add(-6 * 24 * time.Hour), RefundedAt: t0.Add(-2 * 24 * time.Hour)}
		}, want: []Code{BehQuickRefund}},
		{name: "cancelled before the reward", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-2 * 24 * time.Hour), CancelledAt: t0.Add(-24 * time.Hour)}
		}, want: []Code{BehQuickRefund}},
		{name: "refund a month later", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-40 * 24 * time.Hour), RewardedAt: t0.Add(-39 * 24 * time.Hour), RefundedAt: t0.Add(-5 * 24 * time.Hour)}
		}},
		{name: "advocate's friends refund", mutate: func(r *Referral) {
			r.AdvocateHistory.Referrals, r.AdvocateHistory.InactiveReferrals, r.AdvocateHistory.RefundedReferrals = 4, 0, 2
		}, want: []Code{BehRefundPattern}},
		{name: "one card, many friends", mutate: func(r *Referral) {
			r.Friend.PaymentFingerprint = "fp_prepaid"
			r.Convergence.SamePaymentFriends = 2
		}, want: []Code{BehSharedPayment}},
		{name: "one address, many friends", mutate: func(r *Referral) {
			r.Friend.Address = "1 Main Street"
			r.Convergence.SameAddressFriends = 3
		}, want: []Code{BehSharedAddress}},
		{name: "two flatmates", mutate: func(r *Referral) {
			r.Friend.Address = "1 Main Street"
			r.Convergence.SameAddressFriends = 2
		}},

		// Leaks and paid traffic.
		{name: "coupon site referer", mutate: func(r *Referral) { r.Click.Referer = "https://www.retailmenot.com/view/shop.example" }, want: []Code{LeakCouponSite}},
		{name: "coupon site utm_source", mutate: func(r *Referral) {
			r.Click.Referer, r.Click.LandingURL = "", "https://shop.example/r/JEAN42?utm_source=slickdeals"
		}, want: []Code{LeakCouponSite}},
		{name: "gclid", mutate: func(r *Referral) { r.Click.LandingURL = "https://shop.example/r/JEAN42?gclid=Cj0KCQ" }, want: []Code{LeakAdClick}},
		{name: "wbraid", mutate: func(r *Referral) { r.Click.LandingURL = "https://shop.example/r/JEAN42?wbraid=abc" }, want: []Code{LeakAdClick}},
		{name: "paid utm_medium", mutate: func(r *Referral) { r.Click.LandingURL = "https://shop.example/r/JEAN42?utm_medium=CPC" }, want: []Code{LeakAdClick}},
		{name: "fbclid alone", mutate: func(r *Referral) { r.Click.LandingURL = "https://shop.example/r/JEAN42?fbclid=IwAR0" }, want: []Code{LeakFBCLID}},
		{name: "fbclid on a paid campaign", mutate: func(r *Referral) {
			r.Click.LandingURL = "https://shop.example/r/JEAN42?utm_medium=paid_social&fbclid=IwAR0"
		}, want: []Code{LeakAdClick}},
		{name: "already a customer", mutate: func(r *Referral) { r.Friend.AlreadyCustomer = true }, want: []Code{LeakExistingCustomer}},
		{name: "existing customer's card", mutate: func(r *Referral) {
			r.Friend.PaymentFingerprint = "fp_old"
			r.Convergence.CustomersSamePayment = 1
		}, want: []Code{LeakExistingPayment}},
	}
	covered := map[Code]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Lists, p.Tuning = tt.lists, tt.tuning
			e, err := NewEngine(p)
			if err != nil {
				t.Fatal(err)
			}
			r := cleanReferral()
			tt.mutate(&r)
			sigs := e.Signals(&r)
			var got []Code
			for _, s := range sigs {
				got = append(got, s.Code)
				covered[s.Code] = true
				if s.Reason == "" {
					t.Errorf("%s has no reason", s.Code)
				}
				if info, ok := Info(s.Code); !ok || info.Weight != s.Weight {
					t.Errorf("%s weight %v differs from the catalogue", s.Code, s.Weight)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				for _, s := range sigs {
					t.Logf("  %s: %s", s.Code, s.Reason)
				}
				t.Errorf("signals = %v, want %v", got, want)
			}
		})
	}
	for _, info := range Catalogue() {
		if !covered[info.Code] {
			t.Errorf("no test case fires %s", info.Code)
		}
	}
}

func TestDays(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * 24 * time.Hour: "7d", 36 * time.Hour: "1.5d", time.Hour: "1h", 90 * time.Minute: "1h30m",
		45 * time.Minute: "45m", 10 * time.Second: "10s", 0: "0h", -2 * time.Hour: "-2h",
	} {
		if got := days(d); got != want {
			t.Errorf("days(%v) = %q, want %q", d, got, want)
		}
	}
	long := "Mozilla/5.0 " + string(make([]byte, 200))
	if s := shorten(long); len(s) > 84 {
		t.Errorf("shorten kept %d bytes", len(s))
	}
}
