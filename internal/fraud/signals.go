package fraud

// Code is the stable identifier of a fraud signal, e.g. "self.same_email".
// Codes are part of the API: they are stored with decisions, used as keys
// of [Policy.Rules] and shown to reviewers, so they never change meaning.
type Code string

// Category groups signals for display.
type Category string

// Signal categories.
const (
	CategorySelf      Category = "self-referral"
	CategoryNetwork   Category = "network"
	CategoryIdentity  Category = "identity"
	CategoryBehaviour Category = "behaviour"
	CategoryLeak      Category = "leak"
)

// Self-referral signals: the friend is probably the advocate.
const (
	// SelfSameAccount: the friend has the advocate's external id.
	SelfSameAccount Code = "self.same_account"
	// SelfSameEmail: the addresses normalize to the same mailbox (dots and
	// +tags on Gmail, +tags elsewhere).
	SelfSameEmail Code = "self.same_email"
	// SelfSamePayment: the friend paid with the advocate's payment
	// instrument.
	SelfSamePayment Code = "self.same_payment"
	// SelfSameDevice: the friend signed up on the advocate's device.
	SelfSameDevice Code = "self.same_device"
	// SelfSameNameDomain: same full name and same non-free email domain.
	SelfSameNameDomain Code = "self.same_name_domain"
	// SelfSameNameAddress: same full name and same postal address.
	SelfSameNameAddress Code = "self.same_name_address"
	// SelfSimilarEmail: different mailboxes built from the same words
	// ("jean.dupont@gmail.com" and "jeandupont84@yahoo.fr").
	SelfSimilarEmail Code = "self.similar_email"
	// SelfSameName: same full name (on free providers or different domains).
	SelfSameName Code = "self.same_name"
)

// Network signals: where the traffic came from.
const (
	// NetSameIP: the friend signed up or clicked from an address the advocate
	// used recently.
	NetSameIP Code = "net.same_ip"
	// NetSameSubnet: same /24 (IPv4) or /64 (IPv6) but not the same address.
	NetSameSubnet Code = "net.same_subnet"
	// NetSameUserAgent: same network and the same exact User-Agent.
	NetSameUserAgent Code = "net.same_user_agent"
	// NetClickFloodIP: many clicks on the code from one address in a short
	// window.
	NetClickFloodIP Code = "net.click_flood_ip"
	// NetClickFloodUA: many clicks on the code with one User-Agent, making up
	// most of its browser traffic.
	NetClickFloodUA Code = "net.click_flood_ua"
	// NetAutomatedClicks: several clicks on the code from scripts, headless
	// browsers or clients sending no User-Agent.
	NetAutomatedClicks Code = "net.automated_clicks"
	// NetBotClick: the click the referral was attributed to did not come
	// from a browser.
	NetBotClick Code = "net.bot_click"
	// NetBotSignup: the friend's signup request did not come from a browser.
	NetBotSignup Code = "net.bot_signup"
	// NetDatacenterIP: the friend came from an operator-listed hosting or VPN
	// range.
	NetDatacenterIP Code = "net.datacenter_ip"
	// NetTorExit: the friend came from an operator-listed Tor exit.
	NetTorExit Code = "net.tor_exit"
)

// Identity signals: who the friend claims to be.
const (
	// IDDisposableEmail: the friend's email domain is a throwaway service.
	IDDisposableEmail Code = "id.disposable_email"
	// IDRandomEmail: the friend's local part looks machine generated.
	IDRandomEmail Code = "id.random_email"
	// IDBlockedEmail: an address matches the operator's email blocklist.
	IDBlockedEmail Code = "id.blocked_email"
	// IDBlockedDomain: an email domain is on the operator's blocklist.
	IDBlockedDomain Code = "id.blocked_domain"
	// IDBlockedIP: an address is inside an operator-blocked range.
	IDBlockedIP Code = "id.blocked_ip"
	// IDBlockedCountry: a party's country is blocked by the operator.
	IDBlockedCountry Code = "id.blocked_country"
)

// Behaviour signals: what happened around and after the referral.
const (
	// BehVelocityBurst: the advocate's signups in the trailing hour are far
	// above both their own baseline and the program's per-advocate one.
	BehVelocityBurst Code = "beh.velocity_burst"
	// BehNoActivity: the friend has not used the product since signing up.
	BehNoActivity Code = "beh.no_activity"
	// BehInactiveReferrals: most of the advocate's earlier friends never
	// used the product.
	BehInactiveReferrals Code = "beh.inactive_referrals"
	// BehQuickRefund: the conversion was refunded or cancelled shortly after
	// the reward.
	BehQuickRefund Code = "beh.quick_refund"
	// BehRefundPattern: many of the advocate's earlier friends refunded.
	BehRefundPattern Code = "beh.refund_pattern"
	// BehSharedPayment: several referred friends paid with this friend's
	// payment instrument.
	BehSharedPayment Code = "beh.shared_payment"
	// BehSharedAddress: several referred friends share this friend's
	// address.
	BehSharedAddress Code = "beh.shared_address"
)

// Leak and paid-traffic signals: the code reached people who were not the
// advocate's friends, or customers who were not new.
const (
	// LeakCouponSite: the click came from a coupon or deal site.
	LeakCouponSite Code = "leak.coupon_site"
	// LeakAdClick: the landing URL carries paid-ad click ids or a paid
	// utm_medium: the advocate is buying traffic.
	LeakAdClick Code = "leak.ad_click"
	// LeakFBCLID: the landing URL carries only Facebook's fbclid, which
	// Facebook also adds to organic shares.
	LeakFBCLID Code = "leak.fbclid"
	// LeakExistingCustomer: the "new" friend was already a customer.
	LeakExistingCustomer Code = "leak.existing_customer"
	// LeakExistingPayment: the friend paid with an instrument already used
	// by another existing customer.
	LeakExistingPayment Code = "leak.existing_payment"
)

// SignalInfo describes one signal: its code, category, default weight and
// what it means. The catalogue is the single source of weights.
type SignalInfo struct {
	// Code identifies the signal.
	Code Code
	// Category groups it for display.
	Category Category
	// Weight is the default weight in [0, 1]: the probability-like
	// strength of the evidence on its own (see [Score]).
	Weight float64
	// Summary explains the signal and why it has its weight.
	Summary string
}

var catalogue = []SignalInfo{
	{SelfSameAccount, CategorySelf, 0.99, "The friend has the advocate's own external id: the same account referred itself."},
	{SelfSameEmail, CategorySelf, 0.95, "Both addresses reach the same mailbox once +tags (all providers) and Gmail dots are removed."},
	{SelfSamePayment, CategorySelf, 0.90, "The friend paid with the advocate's card or account; households sharing a card look the same, hence not 1."},
	{SelfSameDevice, CategorySelf, 0.80, "The friend signed up on the advocate's device (same long-lived device id); a shared family computer explains a few."},
	{SelfSameNameDomain, CategorySelf, 0.70, "Same full name and same company or family email domain: almost always one person with two addresses."},
	{SelfSameNameAddress, CategorySelf, 0.70, "Same full name and same postal address: one person, or a same-named relative living with them."},
	{SelfSimilarEmail, CategorySelf, 0.50, "Different mailboxes made of the same words (jean.dupont / jeandupont84), or the friend's address built from the advocate's name."},
	{SelfSameName, CategorySelf, 0.30, "Same full name on a free provider or different domains; common names collide, so it is weak alone."},

	{NetSameIP, CategoryNetwork, 0.25, "Same public IP as the advocate's recent ones. Households, offices and mobile carriers share IPs, so it never decides alone."},
	{NetSameSubnet, CategoryNetwork, 0.10, "Same /24 (IPv4) or /64 (IPv6) as the advocate: same building or provider pool; very weak."},
	{NetSameUserAgent, CategoryNetwork, 0.20, "Same network and byte-identical User-Agent; popular phones share User-Agents, so it only counts next to a network match."},
	{NetClickFloodIP, CategoryNetwork, 0.60, "Many clicks on the code from one IP within the click window: click flooding or cookie stuffing."},
	{NetClickFloodUA, CategoryNetwork, 0.50, "Many clicks with one User-Agent making up most of the code's browser clicks: a bot rotating IPs."},
	{NetAutomatedClicks, CategoryNetwork, 0.50, "Several clicks from scripts, headless browsers or clients with no User-Agent; link-preview fetchers are ignored."},
	{NetBotClick, CategoryNetwork, 0.50, "The attributed click came from a non-browser client, so the attribution itself is suspect."},
	{NetBotSignup, CategoryNetwork, 0.50, "The friend's signup request came from a script, crawler or headless browser."},
	{NetDatacenterIP, CategoryNetwork, 0.30, "The friend came from an operator-listed hosting/VPN range; privacy-minded people use VPNs too."},
	{NetTorExit, CategoryNetwork, 0.40, "The friend came from an operator-listed Tor exit node."},

	{IDDisposableEmail, CategoryIdentity, 0.50, "The friend's email domain is a throwaway service (embedded list plus operator additions)."},
	{IDRandomEmail, CategoryIdentity, 0.20, "The friend's local part looks machine generated (scattered digits, consonant runs, no vowel at all); some real people have such addresses, so it is weak alone."},
	{IDBlockedEmail, CategoryIdentity, 0.95, "An address matches the operator's email blocklist."},
	{IDBlockedDomain, CategoryIdentity, 0.90, "An email domain is on the operator's domain blocklist."},
	{IDBlockedIP, CategoryIdentity, 0.90, "An IP is inside an operator-blocked range."},
	{IDBlockedCountry, CategoryIdentity, 0.90, "A party's country is on the operator's country blocklist."},

	{BehVelocityBurst, CategoryBehaviour, 0.50, "The advocate's signups in the trailing hour are far above their own EWMA baseline and an active advocate's usual hour in the program (z-scores)."},
	{BehNoActivity, CategoryBehaviour, 0.25, "The friend has not used the product since signing up; many genuine sign-ups never return either."},
	{BehInactiveReferrals, CategoryBehaviour, 0.35, "Most of the advocate's earlier friends never used the product: a pattern of fake accounts."},
	{BehQuickRefund, CategoryBehaviour, 0.50, "The conversion that earned the reward was refunded or cancelled shortly after the reward."},
	{BehRefundPattern, CategoryBehaviour, 0.35, "Many of the advocate's earlier friends refunded after the reward."},
	{BehSharedPayment, CategoryBehaviour, 0.55, "Several referred friends paid with the same instrument: one person behind many accounts."},
	{BehSharedAddress, CategoryBehaviour, 0.30, "Several referred friends share one address; large households and flat-shares exist."},

	{LeakCouponSite, CategoryLeak, 0.50, "The click came from a coupon or deal site: the code leaked to strangers."},
	{LeakAdClick, CategoryLeak, 0.50, "The landing URL carries a paid-ad click id (gclid, msclkid, ...) or paid utm_medium: the advocate bought the traffic."},
	{LeakFBCLID, CategoryLeak, 0.10, "Only Facebook's fbclid, which Facebook adds to organic shares as well as ads; observed by default."},
	{LeakExistingCustomer, CategoryLeak, 0.80, "The referred \"new\" customer was already a customer."},
	{LeakExistingPayment, CategoryLeak, 0.60, "The friend paid with an instrument already used by another existing customer."},
}

var catalogueIndex = func() map[Code]int {
	m := make(map[Code]int, len(catalogue))
	for i, s := range catalogue {
		m[s.Code] = i
	}
	return m
}()

// Catalogue returns every signal the package can emit, in a stable order,
// with its default weight and explanation.
func Catalogue() []SignalInfo {
	return append([]SignalInfo(nil), catalogue...)
}

// Info returns the catalogue entry for a code.
func Info(c Code) (SignalInfo, bool) {
	i, ok := catalogueIndex[c]
	if !ok {
		return SignalInfo{}, false
	}
	return catalogue[i], true
}

// weightOf returns the default weight of a known code.
func weightOf(c Code) float64 {
	return catalogue[catalogueIndex[c]].Weight
}

// Signal is one piece of evidence found in a referral.
type Signal struct {
	// Code identifies the rule that fired.
	Code Code
	// Weight is the catalogue weight in [0, 1].
	Weight float64
	// Reason says, in plain words and with the facts involved, why it
	// fired.
	Reason string
}

// newSignal builds a signal with its catalogue weight.
func newSignal(c Code, reason string) Signal {
	return Signal{Code: c, Weight: weightOf(c), Reason: reason}
}
