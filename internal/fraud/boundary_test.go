package fraud

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

// signalsOf runs an engine with the default policy, the given lists and
// tuning over r and returns each fired code with its reason.
func signalsOf(t *testing.T, lists Lists, tuning Tuning, r *Referral) map[Code]string {
	t.Helper()
	p := DefaultPolicy()
	p.Lists, p.Tuning = lists, tuning
	e, err := NewEngine(p)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	out := map[Code]string{}
	for _, s := range e.Signals(r) {
		if _, dup := out[s.Code]; dup {
			t.Errorf("%s emitted twice", s.Code)
		}
		out[s.Code] = s.Reason
	}
	return out
}

// bare is a referral with no evidence at all: the detectors' boundaries are
// tested one fact at a time on top of it.
func bare() Referral {
	return Referral{
		At:       t0,
		Code:     "JEAN42",
		Advocate: Party{ExternalID: "cus_1", Email: "jean.dupont@gmail.com", Name: "Jean Dupont", IP: "203.0.113.10", UserAgent: uaChromeWin},
		Friend:   Party{ExternalID: "cus_2", Email: "marie.curie@outlook.com", Name: "Marie Curie", IP: "198.51.100.20", UserAgent: uaIPhone, SignedUpAt: t0},
	}
}

// repeat returns n clicks with the same fields, one second apart ending at
// t0, unless at is set.
func repeat(n int, c Click) []Click {
	out := make([]Click, n)
	for i := range out {
		out[i] = c
		if c.At.IsZero() {
			out[i].At = t0.Add(-time.Duration(i) * time.Second)
		}
	}
	return out
}

// TestDetectorBoundaries pins each threshold on both sides and the exact
// wording of the reason shown to reviewers and stored with decisions.
func TestDetectorBoundaries(t *testing.T) {
	farm := "Mozilla/5.0 Farm/1"
	distinctBrowsers := func(n, ipBase int) []Click {
		out := make([]Click, n)
		for i := range out {
			out[i] = Click{At: t0.Add(-time.Minute), IP: fmt.Sprintf("192.0.2.%d", ipBase+i), UserAgent: fmt.Sprintf("Mozilla/5.0 Other/%d", i)}
		}
		return out
	}
	farmClicks := func(n int) []Click {
		out := make([]Click, n)
		for i := range out {
			out[i] = Click{At: t0.Add(-time.Minute), IP: fmt.Sprintf("192.0.2.%d", i+1), UserAgent: farm}
		}
		return out
	}
	day := 24 * time.Hour
	tests := []struct {
		name   string
		lists  Lists
		tuning Tuning
		mutate func(r *Referral)
		want   map[Code]string // code → exact reason ("" means: fired, reason not pinned)
	}{
		{name: "bare referral fires nothing", mutate: func(*Referral) {}},

		// Click flood per IP: 12 in the window, window inclusive at its start.
		{name: "12 clicks from one IP", mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{IP: "192.0.2.200", UserAgent: uaAndroid})
		}, want: map[Code]string{NetClickFloodIP: `12 clicks on code "JEAN42" from 192.0.2.200 within 1h (flood threshold 12)`}},
		{name: "12 clicks exactly one window ago count", mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{At: t0.Add(-time.Hour), IP: "192.0.2.200", UserAgent: uaAndroid})
		}, want: map[Code]string{NetClickFloodIP: ""}},
		{name: "12 clicks a nanosecond before the window do not", mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{At: t0.Add(-time.Hour - 1), IP: "192.0.2.200", UserAgent: uaAndroid})
		}},
		{name: "clicks after the assessment time do not count", mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{At: t0.Add(time.Second), IP: "192.0.2.200", UserAgent: uaAndroid})
		}},
		{name: "clicks without a time are inside any window", mutate: func(r *Referral) {
			r.RecentClicks = make([]Click, 12)
			for i := range r.RecentClicks {
				r.RecentClicks[i] = Click{IP: "192.0.2.200", UserAgent: uaAndroid}
			}
		}, want: map[Code]string{NetClickFloodIP: ""}},
		{name: "a wider tuned window reaches older clicks", tuning: Tuning{ClickWindow: 3 * time.Hour}, mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{At: t0.Add(-2 * time.Hour), IP: "192.0.2.200", UserAgent: uaAndroid})
		}, want: map[Code]string{NetClickFloodIP: `12 clicks on code "JEAN42" from 192.0.2.200 within 3h (flood threshold 12)`}},
		{name: "a flood from a private address is not comparable", mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{IP: "10.1.2.3", UserAgent: uaAndroid})
		}},
		{name: "an IPv4-mapped IPv6 address counts as its IPv4", mutate: func(r *Referral) {
			r.RecentClicks = append(repeat(6, Click{IP: "192.0.2.200", UserAgent: uaAndroid}),
				repeat(6, Click{IP: "[::ffff:192.0.2.200]:4433", UserAgent: uaAndroid})...)
		}, want: map[Code]string{NetClickFloodIP: `12 clicks on code "JEAN42" from 192.0.2.200 within 1h (flood threshold 12)`}},

		// Click flood per User-Agent: ≥ 20 and ≥ 60% of browser clicks.
		{name: "20 of 33 browser clicks share a User-Agent", mutate: func(r *Referral) {
			r.RecentClicks = append(farmClicks(20), distinctBrowsers(13, 100)...)
		}, want: map[Code]string{NetClickFloodUA: `20 of 33 browser clicks on code "JEAN42" within 1h share the User-Agent "Mozilla/5.0 Farm/1" (flood threshold 20 and 60%)`}},
		{name: "20 of 34 is under the 60% share", mutate: func(r *Referral) {
			r.RecentClicks = append(farmClicks(20), distinctBrowsers(14, 100)...)
		}},
		{name: "exactly the tuned share", tuning: Tuning{ClickFloodUAShare: 0.5}, mutate: func(r *Referral) {
			r.RecentClicks = append(farmClicks(20), distinctBrowsers(20, 100)...)
		}, want: map[Code]string{NetClickFloodUA: `20 of 40 browser clicks on code "JEAN42" within 1h share the User-Agent "Mozilla/5.0 Farm/1" (flood threshold 20 and 50%)`}},
		{name: "just under the tuned share", tuning: Tuning{ClickFloodUAShare: 0.5}, mutate: func(r *Referral) {
			r.RecentClicks = append(farmClicks(20), distinctBrowsers(21, 100)...)
		}},
		{name: "19 of 19 is under the count", mutate: func(r *Referral) {
			r.RecentClicks = farmClicks(19)
		}},
		{name: "the User-Agent is compared trimmed", mutate: func(r *Referral) {
			r.RecentClicks = farmClicks(20)
			for i := range 10 {
				r.RecentClicks[i].UserAgent = "  " + farm + " "
			}
		}, want: map[Code]string{NetClickFloodUA: ""}},

		// Automated clicks: 5; link previews and crawlers are not automation.
		{name: "5 scripted clicks", mutate: func(r *Referral) {
			r.RecentClicks = []Click{
				{At: t0, IP: "192.0.2.1", UserAgent: "curl/8.7.1"}, {At: t0, IP: "192.0.2.2", UserAgent: ""},
				{At: t0, IP: "192.0.2.3", UserAgent: "python-requests/2.32"}, {At: t0, IP: "192.0.2.4", UserAgent: "Go-http-client/1.1"},
				{At: t0, IP: "192.0.2.5", UserAgent: "Mozilla/5.0 HeadlessChrome/142.0"},
			}
		}, want: map[Code]string{NetAutomatedClicks: `5 clicks on code "JEAN42" within 1h came from scripts, headless browsers or no User-Agent (threshold 5)`}},
		{name: "4 scripted clicks among previews and crawlers", mutate: func(r *Referral) {
			r.RecentClicks = append(repeat(4, Click{IP: "192.0.2.1", UserAgent: "curl/8.7.1"}),
				append(repeat(10, Click{IP: "192.0.2.2", UserAgent: "WhatsApp/2.25.21.80 A"}),
					repeat(10, Click{IP: "192.0.2.3", UserAgent: "Mozilla/5.0 (compatible; Googlebot/2.1)"})...)...)
		}},
		{name: "a scripted flood from one IP is both", mutate: func(r *Referral) {
			r.RecentClicks = repeat(12, Click{IP: "192.0.2.9", UserAgent: "curl/8.7.1"})
		}, want: map[Code]string{NetClickFloodIP: "", NetAutomatedClicks: ""}},
		{name: "fewer clicks than any threshold are not examined", tuning: Tuning{AutomatedClicks: 3}, mutate: func(r *Referral) {
			r.RecentClicks = repeat(2, Click{IP: "192.0.2.1", UserAgent: "curl/8.7.1"})
		}},
		{name: "tuned automation threshold", tuning: Tuning{AutomatedClicks: 3}, mutate: func(r *Referral) {
			r.RecentClicks = repeat(3, Click{IP: "192.0.2.1", UserAgent: "curl/8.7.1"})
		}, want: map[Code]string{NetAutomatedClicks: `3 clicks on code "JEAN42" within 1h came from scripts, headless browsers or no User-Agent (threshold 3)`}},

		// Attributed click and signup User-Agents.
		{name: "attributed click from a crawler", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: "Mozilla/5.0 (compatible; bingbot/2.0)"}
		}, want: map[Code]string{NetBotClick: `the click this referral is attributed to came from a non-browser client (crawler, User-Agent "Mozilla/5.0 (compatible; bingbot/2.0)")`}},
		{name: "attributed click from a link preview", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: "Slackbot-LinkExpanding 1.0"}
		}, want: map[Code]string{NetBotClick: `the click this referral is attributed to came from a non-browser client (link-preview, User-Agent "Slackbot-LinkExpanding 1.0")`}},
		{name: "signup from curl", mutate: func(r *Referral) { r.Friend.UserAgent = " curl/8.7.1 " },
			want: map[Code]string{NetBotSignup: `the friend's signup came from a non-browser client (automation, User-Agent "curl/8.7.1")`}},
		{name: "blank signup User-Agent is unknown", mutate: func(r *Referral) { r.Friend.UserAgent = " \t" }},

		// Network.
		{name: "same IP, reason names it", mutate: func(r *Referral) { r.Friend.IP = "203.0.113.10:51234" },
			want: map[Code]string{NetSameIP: "friend used 203.0.113.10, an IP the advocate used recently"}},
		{name: "same /24 is a subnet", mutate: func(r *Referral) { r.Friend.IP = "203.0.113.254" },
			want: map[Code]string{NetSameSubnet: "friend used 203.0.113.254, in the advocate's network 203.0.113.0/24"}},
		{name: "neighbouring /24 is nothing", mutate: func(r *Referral) { r.Friend.IP = "203.0.112.10" }},
		{name: "IPv6 outside the /64 is nothing", mutate: func(r *Referral) {
			r.Advocate.IP, r.Friend.IP = "2a01:e0a:1:2::1", "2a01:e0a:1:3::1"
		}},
		{name: "exact match wins over a subnet match", mutate: func(r *Referral) {
			r.Advocate.RecentIPs = []string{"198.51.100.7"}
			r.Friend.IP = "198.51.100.20"
			r.Click = &Click{At: t0, IP: "198.51.100.7", UserAgent: uaIPhone}
		}, want: map[Code]string{NetSameIP: "friend used 198.51.100.7, an IP the advocate used recently"}},
		{name: "same User-Agent via the click on a shared network", mutate: func(r *Referral) {
			r.Friend.IP = "203.0.113.10"
			r.Click = &Click{At: t0, IP: "203.0.113.10", UserAgent: " " + uaChromeWin}
		}, want: map[Code]string{NetSameIP: "", NetSameUserAgent: ""}},
		{name: "no advocate User-Agent, no User-Agent signal", mutate: func(r *Referral) {
			r.Friend.IP, r.Advocate.UserAgent, r.Friend.UserAgent = "203.0.113.10", "", ""
		}, want: map[Code]string{NetSameIP: ""}},
		{name: "loopback and link-local are not compared", mutate: func(r *Referral) {
			r.Advocate.IP, r.Friend.IP = "127.0.0.1", "127.0.0.1"
			r.Advocate.RecentIPs = []string{"fe80::1%eth0"}
			r.Click = &Click{At: t0, IP: "fe80::1", UserAgent: uaIPhone}
		}},

		// Hosting ranges: each code at most once even when both addresses match.
		{name: "Tor and datacenter on signup and click", lists: Lists{
			TorExitRanges: []string{"198.51.100.0/24"}, DatacenterRanges: []string{"# pasted list", "", "198.51.100.20/32"},
		}, mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.21", UserAgent: uaIPhone}
		}, want: map[Code]string{
			NetTorExit:      "friend used 198.51.100.20, a listed Tor exit (198.51.100.0/24)",
			NetDatacenterIP: "friend used 198.51.100.20, inside the listed hosting/VPN range 198.51.100.20/32",
		}},
		{name: "the click alone from a Tor exit", lists: Lists{TorExitRanges: []string{"192.0.2.0/28"}}, mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "192.0.2.15", UserAgent: uaIPhone}
		}, want: map[Code]string{NetTorExit: "friend used 192.0.2.15, a listed Tor exit (192.0.2.0/28)"}},
		{name: "just outside a listed range", lists: Lists{TorExitRanges: []string{"192.0.2.0/28"}}, mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "192.0.2.16", UserAgent: uaIPhone}
		}},
		{name: "the advocate's address is not the friend's hosting", lists: Lists{DatacenterRanges: []string{"203.0.113.0/24"}}, mutate: func(*Referral) {}},

		// Identity: disposable and random addresses.
		{name: "disposable subdomain, reason names the entry", mutate: func(r *Referral) { r.Friend.Email = "marie@EU.Mailinator.com" },
			want: map[Code]string{IDDisposableEmail: "friend email domain eu.mailinator.com is a disposable-email service (list entry mailinator.com)"}},
		{name: "an exempt subdomain leaves the parent disposable", lists: Lists{AllowedDomains: []string{"eu.mailinator.com"}},
			mutate: func(r *Referral) { r.Friend.Email = "marie@mailinator.com" }, want: map[Code]string{IDDisposableEmail: ""}},
		{name: "an exempt subdomain itself", lists: Lists{AllowedDomains: []string{"*.eu.mailinator.com"}},
			mutate: func(r *Referral) { r.Friend.Email = "marie@eu.mailinator.com" }},
		{name: "the advocate's disposable address is not a friend signal", mutate: func(r *Referral) { r.Advocate.Email = "jean@mailinator.com" }},
		{name: "an invalid friend address fires nothing", mutate: func(r *Referral) { r.Friend.Email = "x7qk2mz9wpl@mailinator" }},
		{name: "random local part, normalized in the reason", mutate: func(r *Referral) { r.Friend.Email = "X7QK.2mz9wpl+promo@gmail.com" },
			want: map[Code]string{IDRandomEmail: `friend email local part "x7qk2mz9wpl" looks machine generated`}},
		{name: "relay services are random by design", mutate: func(r *Referral) { r.Friend.Email = "x7qk2mz9wpl@duck.com" }},
		{name: "Firefox relay too", mutate: func(r *Referral) { r.Friend.Email = "dx7q9kz2mp@mozmail.com" }},

		// Blocklists: checked for both parties, friend first, each code once.
		{name: "both parties' emails blocked: one signal, the friend's", lists: Lists{
			BlockedEmails: []string{"  # comment", "Jean.Dupont@gmail.com", "marie.curie@outlook.com"},
		}, mutate: func(*Referral) {}, want: map[Code]string{
			IDBlockedEmail: `friend email "marie.curie@outlook.com" matches blocklist entry "marie.curie@outlook.com"`,
		}},
		{name: "advocate's Gmail variant blocked", lists: Lists{BlockedEmails: []string{"jeandupont@gmail.com"}},
			mutate: func(r *Referral) { r.Advocate.Email = "Jean.Dupont+x@googlemail.com" }, want: map[Code]string{
				IDBlockedEmail: `advocate email "Jean.Dupont+x@googlemail.com" matches blocklist entry "jeandupont@gmail.com"`,
			}},
		{name: "glob on the raw address", lists: Lists{BlockedEmails: []string{"fraud*+*@outlook.com"}},
			mutate: func(r *Referral) { r.Friend.Email = "fraudster+7@outlook.com" }, want: map[Code]string{
				IDBlockedEmail: `friend email "fraudster+7@outlook.com" matches blocklist entry "fraud*+*@outlook.com"`,
			}},
		{name: "glob not matching", lists: Lists{BlockedEmails: []string{"*@competitor.example"}}, mutate: func(*Referral) {}},
		{name: "blocked domain with a *. prefix", lists: Lists{BlockedDomains: []string{"*.spam.example"}},
			mutate: func(r *Referral) { r.Friend.Email = "m@eu.spam.example" }, want: map[Code]string{
				IDBlockedDomain: "friend email domain eu.spam.example matches blocked domain spam.example",
			}},
		{name: "blocked domain is not a suffix match on labels", lists: Lists{BlockedDomains: []string{"spam.example"}},
			mutate: func(r *Referral) { r.Friend.Email = "m@notspam.example" }},
		{name: "advocate inside a blocked range", lists: Lists{BlockedIPs: []string{"203.0.113.0/24"}}, mutate: func(*Referral) {},
			want: map[Code]string{IDBlockedIP: "advocate IP 203.0.113.10 is inside blocked range 203.0.113.0/24"}},
		{name: "friend's click inside a blocked IPv6 range", lists: Lists{BlockedIPs: []string{"2001:db8::/32"}}, mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "[2001:db8:5::1]:443", UserAgent: uaIPhone}
		}, want: map[Code]string{IDBlockedIP: "friend IP 2001:db8:5::1 is inside blocked range 2001:db8::/32"}},
		{name: "blocked country, case and spaces folded", lists: Lists{BlockedCountries: []string{"KP", "ir"}},
			mutate: func(r *Referral) { r.Advocate.Country = " ir " }, want: map[Code]string{IDBlockedCountry: "advocate country IR is blocked"}},

		// Velocity: at least 5 this hour and z ≥ 4 against both baselines.
		{name: "z exactly at the threshold", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 5}
			r.Friend.Email = "tigerlily77@outlook.com" // not made of her name
		}, want: map[Code]string{BehVelocityBurst: "advocate has 5 referred signups in the last hour against their baseline 1.0±1.0/h (z=4.0); threshold z≥4.0"}},
		{name: "z just under the threshold", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1.01, Hours: 10}, ThisHour: 5}
		}},
		{name: "four signups on an empty baseline", mutate: func(r *Referral) {
			r.AdvocateHistory = History{ThisHour: 4}
		}},
		{name: "the program's baseline confirms", mutate: func(r *Referral) {
			r.AdvocateHistory = History{ThisHour: 5}
			r.ProgramHourly = Velocity{Mean: 1, Hours: 5}
			r.Friend.Email = "tigerlily77@outlook.com" // not made of her name
		}, want: map[Code]string{BehVelocityBurst: "advocate has 5 referred signups in the last hour against their baseline 0.0±1.0/h (z=5.0) and the program's 1.0±1.0 per advocate (z=4.0); threshold z≥4.0"}},
		{name: "the program's baseline vetoes", mutate: func(r *Referral) {
			r.AdvocateHistory = History{ThisHour: 5}
			r.ProgramHourly = Velocity{Mean: 1.5, Hours: 5}
		}},
		{name: "a burst does not hold a friend whose address is her own name", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 5}
		}},
		{name: "a burst counts a named friend on the advocate's device", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 5}
			r.Advocate.DeviceID, r.Friend.DeviceID = "dev_1", "dev_1"
		}, want: map[Code]string{BehVelocityBurst: "", SelfSameDevice: ""}},
		{name: "a burst counts a named friend signing up from a script", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 5}
			r.Friend.UserAgent = "python-requests/2.32.3"
		}, want: map[Code]string{BehVelocityBurst: "", NetBotSignup: ""}},
		{name: "a burst counts a named friend whose click was headless", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 5}
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0.0.0 Safari/537.36"}
		}, want: map[Code]string{BehVelocityBurst: "", NetBotClick: ""}},
		{name: "a burst counts a named friend on a throwaway domain", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 5}
			r.Friend.Email = "marie.curie@mailinator.com"
		}, want: map[Code]string{BehVelocityBurst: "", IDDisposableEmail: ""}},
		{name: "tuned z and minimum", tuning: Tuning{VelocityMinCount: 3, VelocityZ: 2}, mutate: func(r *Referral) {
			r.AdvocateHistory = History{Hourly: Velocity{Mean: 1, Hours: 10}, ThisHour: 3}
			r.Friend.Email = "tigerlily77@outlook.com" // not made of her name
		}, want: map[Code]string{BehVelocityBurst: "advocate has 3 referred signups in the last hour against their baseline 1.0±1.0/h (z=2.0); threshold z≥2.0"}},

		// Inactivity: 7 days, inclusive.
		{name: "exactly seven days without activity", mutate: func(r *Referral) {
			r.Friend.SignedUpAt, r.FriendActivity = t0.Add(-7*day), &Activity{}
		}, want: map[Code]string{BehNoActivity: "friend has had no product activity in the 7d since signing up (threshold 7d)"}},
		{name: "a second short of seven days", mutate: func(r *Referral) {
			r.Friend.SignedUpAt, r.FriendActivity = t0.Add(-7*day+time.Second), &Activity{}
		}},
		{name: "negative event count is no activity", mutate: func(r *Referral) {
			r.Friend.SignedUpAt, r.FriendActivity = t0.Add(-8*day-12*time.Hour), &Activity{Events: -1}
		}, want: map[Code]string{BehNoActivity: "friend has had no product activity in the 8.5d since signing up (threshold 7d)"}},
		{name: "unknown activity is not inactivity", mutate: func(r *Referral) {
			r.Friend.SignedUpAt = t0.Add(-30 * day)
		}},
		{name: "unknown signup time", mutate: func(r *Referral) {
			r.Friend.SignedUpAt, r.FriendActivity = time.Time{}, &Activity{}
		}},
		{name: "one event is activity", mutate: func(r *Referral) {
			r.Friend.SignedUpAt, r.FriendActivity = t0.Add(-30*day), &Activity{Events: 1}
		}},
		{name: "three of four earlier friends inactive (75%)", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Referrals: 4, InactiveReferrals: 3}
		}, want: map[Code]string{BehInactiveReferrals: "3 of the advocate's 4 earlier referred friends never used the product (threshold 75%)"}},
		{name: "two of three is under 75%", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Referrals: 3, InactiveReferrals: 2}
		}},
		{name: "two of two is too few to judge", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Referrals: 2, InactiveReferrals: 2}
		}},

		// Refunds: 14 days after the reward, inclusive.
		{name: "refund exactly 14 days after the reward", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-20 * day), RewardedAt: t0.Add(-15 * day), RefundedAt: t0.Add(-day)}
		}, want: map[Code]string{BehQuickRefund: "the friend's conversion was refunded 14d after the reward (window 14d)"}},
		{name: "refund a second later", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-20 * day), RewardedAt: t0.Add(-15 * day), RefundedAt: t0.Add(-day + time.Second)}
		}},
		{name: "refund before the reward", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-3 * day), RewardedAt: t0.Add(-day), RefundedAt: t0.Add(-2 * day)}
		}, want: map[Code]string{BehQuickRefund: "the friend's conversion was refunded 1d before the reward (window 14d)"}},
		{name: "the earlier of cancel and refund is reported", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-6 * day), RewardedAt: t0.Add(-5 * day), RefundedAt: t0.Add(-day), CancelledAt: t0.Add(-3 * day)}
		}, want: map[Code]string{BehQuickRefund: "the friend's conversion was cancelled 2d after the reward (window 14d)"}},
		{name: "a refund after using the product, first of the advocate's", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-3 * day), RewardedAt: t0.Add(-3 * day), RefundedAt: t0.Add(-2 * day)}
			r.FriendActivity = &Activity{Events: 1, LastSeen: t0.Add(-3 * day)}
		}},
		{name: "a refund after using the product, the advocate's friends refunded before", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-3 * day), RewardedAt: t0.Add(-3 * day), RefundedAt: t0.Add(-2 * day)}
			r.FriendActivity = &Activity{Events: 4, LastSeen: t0.Add(-3 * day)}
			r.AdvocateHistory = History{Referrals: 5, RefundedReferrals: 1}
		}, want: map[Code]string{BehQuickRefund: "the friend's conversion was refunded 1d after the reward (window 14d)"}},
		{name: "a refund without any product use", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-3 * day), RewardedAt: t0.Add(-3 * day), RefundedAt: t0.Add(-2 * day)}
			r.FriendActivity = &Activity{}
		}, want: map[Code]string{BehQuickRefund: ""}},
		{name: "no reward yet: measured from the conversion", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-3 * day), RefundedAt: t0.Add(-3*day + 90*time.Minute)}
		}, want: map[Code]string{BehQuickRefund: "the friend's conversion was refunded 1h30m after converting (window 14d)"}},
		{name: "a conversion never undone", mutate: func(r *Referral) {
			r.Conversion = &Conversion{At: t0.Add(-3 * day), RewardedAt: t0.Add(-2 * day)}
		}},
		{name: "half of the earlier friends refunded", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Referrals: 4, RefundedReferrals: 2}
		}, want: map[Code]string{BehRefundPattern: "2 of the advocate's 4 earlier referred friends refunded or cancelled (threshold 50%)"}},
		{name: "one in four is under half", mutate: func(r *Referral) {
			r.AdvocateHistory = History{Referrals: 4, RefundedReferrals: 1}
		}},

		// Convergence.
		{name: "two other friends on this card", mutate: func(r *Referral) {
			r.Friend.PaymentFingerprint, r.Convergence.SamePaymentFriends = "fp_x", 2
		}, want: map[Code]string{BehSharedPayment: "2 other referred friends paid with this friend's payment instrument (threshold 2)"}},
		{name: "one other friend on this card", mutate: func(r *Referral) {
			r.Friend.PaymentFingerprint, r.Convergence.SamePaymentFriends = "fp_x", 1
		}},
		{name: "a count without a fingerprint is ignored", mutate: func(r *Referral) {
			r.Friend.PaymentFingerprint, r.Convergence.SamePaymentFriends = "  ", 5
			r.Friend.Address, r.Convergence.SameAddressFriends = "", 9
			r.Convergence.CustomersSamePayment = 3
		}},
		{name: "three other friends at this address", mutate: func(r *Referral) {
			r.Friend.Address, r.Convergence.SameAddressFriends = "1 Main Street", 3
		}, want: map[Code]string{BehSharedAddress: "3 other referred friends share this friend's address (threshold 3)"}},
		{name: "tuned shared-address threshold", tuning: Tuning{SharedAddressMin: 5}, mutate: func(r *Referral) {
			r.Friend.Address, r.Convergence.SameAddressFriends = "1 Main Street", 4
		}},
		{name: "existing customers' card", mutate: func(r *Referral) {
			r.Friend.PaymentFingerprint, r.Convergence.CustomersSamePayment = "fp_x", 2
		}, want: map[Code]string{LeakExistingPayment: "the friend's payment instrument was already used by 2 existing customer account(s)"}},

		// Self-referral boundaries.
		{name: "eight-letter cores match", mutate: func(r *Referral) {
			r.Advocate.Email, r.Friend.Email = "abcdefgh1@gmail.com", "abcdefgh22@yahoo.fr"
		}, want: map[Code]string{SelfSimilarEmail: `friend email "abcdefgh22@yahoo.fr" and advocate email "abcdefgh1@gmail.com" share the local part "abcdefgh" apart from digits and punctuation`}},
		{name: "seven-letter cores are too common", mutate: func(r *Referral) {
			r.Advocate.Email, r.Friend.Email = "abcdefg1@gmail.com", "abcdefg22@yahoo.fr"
		}},
		{name: "same mailbox, reason shows both and the normal form", mutate: func(r *Referral) {
			r.Friend.Email = "Jean.Dupont+ref@GoogleMail.com"
		}, want: map[Code]string{SelfSameEmail: `friend email "Jean.Dupont+ref@GoogleMail.com" and advocate email "jean.dupont@gmail.com" are the same mailbox "jeandupont@gmail.com" once normalized`}},
		{name: "reversed name as the friend's address", mutate: func(r *Referral) {
			r.Advocate.Email, r.Friend.Email = "jd1984@gmail.com", "dupontjean@outlook.com"
		}, want: map[Code]string{SelfSimilarEmail: `friend email "dupontjean@outlook.com" is built from the advocate's name "Jean Dupont"`}},
		{name: "same name on a company domain under co.uk", mutate: func(r *Referral) {
			r.Advocate.Email = "jean@dupont.co.uk"
			r.Friend.Name, r.Friend.Email = "DUPONT, Jean", "jd@mail.dupont.co.uk"
		}, want: map[Code]string{SelfSameNameDomain: `friend and advocate are both named "dupont jean" and both use the non-free email domain dupont.co.uk`}},
		{name: "same name, two companies under co.uk", mutate: func(r *Referral) {
			r.Advocate.Email = "jean@bbc.co.uk"
			r.Friend.Name, r.Friend.Email = "Jean Dupont", "jd@itv.co.uk"
		}, want: map[Code]string{SelfSameName: `friend and advocate are both named "dupont jean"`}},
		{name: "same name on a country domain of a free brand", mutate: func(r *Referral) {
			r.Advocate.Email = "jean@yahoo.co.uk"
			r.Friend.Name, r.Friend.Email = "Jean Dupont", "jd@yahoo.co.uk"
		}, want: map[Code]string{SelfSameName: ""}},
		{name: "same name and address, accents folded", mutate: func(r *Referral) {
			r.Advocate.Address = "3 Allée des Érables"
			r.Friend.Name, r.Friend.Email, r.Friend.Address = "Jean Dupont", "jd@outlook.com", "3 ALLEE DES ERABLES"
		}, want: map[Code]string{SelfSameNameAddress: `friend and advocate are both named "dupont jean" and share the address "3 ALLEE DES ERABLES"`}},
		{name: "a one-word name is never compared", mutate: func(r *Referral) {
			r.Advocate.Name, r.Friend.Name = "Jean", "Jean"
		}},
		{name: "same device, reason names it", mutate: func(r *Referral) { r.Advocate.DeviceID, r.Friend.DeviceID = "dev_9", " dev_9 " },
			want: map[Code]string{SelfSameDevice: "friend signed up on the advocate's device dev_9"}},
		{name: "same account, reason names it", mutate: func(r *Referral) { r.Friend.ExternalID = "cus_1 " },
			want: map[Code]string{SelfSameAccount: `friend and advocate share the external id "cus_1"`}},

		// Leaks and paid traffic.
		{name: "every paid marker, in the catalogue's order", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: " https://shop.example/r/JEAN42?msclkid=1&fbclid=3&gclid=2&utm_medium=CPC "}
		}, want: map[Code]string{LeakAdClick: "the landing URL carries paid-traffic markers gclid, msclkid, utm_medium=cpc, fbclid"}},
		{name: "an empty click id is no marker", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: "https://shop.example/r/JEAN42?gclid=&utm_medium=email"}
		}},
		{name: "paid medium spelled with spaces and a hyphen", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: "https://shop.example/?utm_medium=%20Paid-Search%20"}
		}, want: map[Code]string{LeakAdClick: "the landing URL carries paid-traffic markers utm_medium=paid-search"}},
		{name: "a landing URL without a query", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: "https://shop.example/r/JEAN42#gclid=1"}
		}},
		{name: "a coupon subreddit by path", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, Referer: "https://www.reddit.com/r/ReferralCodes/comments/abc"}
		}, want: map[Code]string{LeakCouponSite: "the click came from coupon/deal site reddit.com/r/referralcodes (referer https://www.reddit.com/r/ReferralCodes/comments/abc)"}},
		{name: "another subreddit", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, Referer: "https://www.reddit.com/r/cats/"}
		}},
		{name: "a coupon brand in utm_source", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: "https://shop.example/?utm_source=RetailMeNot"}
		}, want: map[Code]string{LeakCouponSite: "the click came from coupon/deal site retailmenot.com (landing URL https://shop.example/?utm_source=RetailMeNot)"}},
		{name: "a generic word in utm_source", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: "https://shop.example/?utm_source=offers"}
		}},
		{name: "a coupon domain in ref", mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, LandingURL: "https://shop.example/?ref=www.offers.com"}
		}, want: map[Code]string{LeakCouponSite: ""}},
		{name: "an empty coupon list disables the defaults", lists: Lists{CouponDomains: []string{}}, mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, Referer: "https://www.retailmenot.com/view/shop.example"}
		}},
		{name: "an operator coupon site", lists: Lists{CouponDomains: []string{"https://www.Deals.example"}}, mutate: func(r *Referral) {
			r.Click = &Click{At: t0, IP: "198.51.100.20", UserAgent: uaIPhone, Referer: "https://m.deals.example/x"}
		}, want: map[Code]string{LeakCouponSite: "the click came from coupon/deal site deals.example (referer https://m.deals.example/x)"}},
		{name: "already a customer", mutate: func(r *Referral) { r.Friend.AlreadyCustomer = true },
			want: map[Code]string{LeakExistingCustomer: "the friend was already a customer before this referral"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bare()
			tt.mutate(&r)
			got := signalsOf(t, tt.lists, tt.tuning, &r)
			gotCodes := slices.Sorted(maps.Keys(got))
			wantCodes := slices.Sorted(maps.Keys(tt.want))
			if !slices.Equal(gotCodes, wantCodes) {
				t.Fatalf("signals = %v, want %v\n%v", gotCodes, wantCodes, got)
			}
			for c, want := range tt.want {
				if want != "" && got[c] != want {
					t.Errorf("%s reason\n got %q\nwant %q", c, got[c], want)
				}
			}
		})
	}
}

func TestTuningWithDefaults(t *testing.T) {
	d := DefaultTuning()
	if got := (Tuning{}).withDefaults(); got != d {
		t.Errorf("Tuning{}.withDefaults() = %+v, want the defaults", got)
	}
	neg := Tuning{ClickWindow: -time.Hour, ClickFloodPerIP: -1, ClickFloodUAShare: -0.5, VelocityZ: nan(), InactivePatternShare: 0}
	if got := neg.withDefaults(); got != d {
		t.Errorf("negative and NaN fields: %+v, want the defaults", got)
	}
	custom := Tuning{ClickWindow: 2 * time.Hour, ClickFloodPerIP: 3, RefundPatternShare: 0.9, SharedPaymentMin: 7}
	got := custom.withDefaults()
	if got.ClickWindow != 2*time.Hour || got.ClickFloodPerIP != 3 || got.RefundPatternShare != 0.9 || got.SharedPaymentMin != 7 {
		t.Errorf("set fields were not kept: %+v", got)
	}
	if got.ClickFloodPerUA != d.ClickFloodPerUA || got.RefundWindow != d.RefundWindow || got.InactiveAfter != d.InactiveAfter {
		t.Errorf("unset fields did not take defaults: %+v", got)
	}
	// The engine applies them: a policy with zero tuning behaves as the
	// default, which the JSON form relies on (it carries no tuning).
	e, err := NewEngine(Policy{HoldAt: 50, RejectAt: 80})
	if err != nil {
		t.Fatal(err)
	}
	if e.tuning != d {
		t.Errorf("engine tuning = %+v, want the defaults", e.tuning)
	}
}

func TestDetectorsEmitEachCodeOnce(t *testing.T) {
	// Every fact at once: no detector may report a code twice, and every
	// signal carries its catalogue weight.
	r := cleanReferral()
	r.Friend.Email = r.Advocate.Email
	r.Friend.ExternalID = r.Advocate.ExternalID
	r.Friend.IP, r.Friend.UserAgent = r.Advocate.IP, r.Advocate.UserAgent
	r.Friend.DeviceID, r.Friend.PaymentFingerprint = r.Advocate.DeviceID, r.Advocate.PaymentFingerprint
	r.Friend.Name, r.Friend.Address, r.Friend.AlreadyCustomer = r.Advocate.Name, r.Advocate.Address, true
	r.Convergence = Convergence{SamePaymentFriends: 9, SameAddressFriends: 9, CustomersSamePayment: 9}
	r.RecentClicks = append(repeat(30, Click{IP: "192.0.2.1", UserAgent: "curl/8"}), repeat(30, Click{IP: "192.0.2.2", UserAgent: uaChromeWin})...)
	r.AdvocateHistory = History{ThisHour: 50, Referrals: 10, InactiveReferrals: 10, RefundedReferrals: 10}
	lists := Lists{
		BlockedEmails: []string{r.Advocate.Email}, BlockedDomains: []string{"gmail.com"}, BlockedIPs: []string{"0.0.0.0/0"},
		BlockedCountries: []string{"FR"}, TorExitRanges: []string{"0.0.0.0/0"}, DatacenterRanges: []string{"0.0.0.0/0"},
	}
	got := signalsOf(t, lists, Tuning{}, &r) // signalsOf fails on duplicates
	if len(got) < 20 {
		t.Errorf("only %d signals fired with every fact present: %v", len(got), slices.Sorted(maps.Keys(got)))
	}
	d, err := NewEngine(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if dec := d.Decide(&r); dec.Score != 100 || !dec.Detected() {
		t.Errorf("everything at once: score %d action %s, want 100 and detected", dec.Score, dec.Action)
	}
}

func nan() float64 { var z float64; return z / z }
