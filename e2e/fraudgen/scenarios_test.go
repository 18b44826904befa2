package fraudgen

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
)

// planFor plans seed 7 at scale 2 once and groups the instances by scenario.
func planFor(t *testing.T) map[string][]*instance {
	t.Helper()
	by := map[string][]*instance{}
	for _, in := range plan(7, 2) {
		by[in.scenario] = append(by[in.scenario], in)
	}
	return by
}

func TestPlanShape(t *testing.T) {
	friends := map[string][2]int{ // fewest and most friends per instance
		"ordinary": {1, 2}, "household": {1, 3}, "office_nat": {3, 7}, "newsletter": {24, 32}, "homonym": {1, 1},
		"plus_address": {1, 1}, "mobile_carrier": {1, 1}, "quick_refund_genuine": {1, 1}, "self_referral": {1, 1},
		"disposable_farm": {5, 8}, "click_farm": {3, 5}, "velocity_burst": {6, 12}, "coupon_leak": {4, 7}, "never_active_refund": {3, 5},
	}
	by := planFor(t)
	if len(by) != len(Scenarios) {
		t.Fatalf("plan has %d scenarios, want %d", len(by), len(Scenarios))
	}
	ids := map[string]bool{}
	for _, sc := range Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			ins := by[sc.Name]
			if len(ins) != 2*sc.Instances {
				t.Fatalf("%d instances, want %d at scale 2", len(ins), 2*sc.Instances)
			}
			lim, ok := friends[sc.Name]
			if !ok {
				t.Fatalf("scenario %q has no expected friend count here", sc.Name)
			}
			for _, in := range ins {
				if in.fraud != sc.Fraud {
					t.Errorf("%s: fraud = %v, want %v", in.advocate.id, in.fraud, sc.Fraud)
				}
				if !slices.Contains(Arrivals, in.arrival) {
					t.Errorf("%s: arrival %+v is not one of Arrivals", in.advocate.id, in.arrival)
				}
				prefix, ok := strings.CutSuffix(in.advocate.id, "-adv")
				if !ok || !strings.HasPrefix(prefix, sc.Name+"-") {
					t.Errorf("advocate id %q, want %s-N-adv", in.advocate.id, sc.Name)
				}
				if n := len(in.friends); n < lim[0] || n > lim[1] {
					t.Errorf("%s: %d friends, want %d–%d", in.advocate.id, n, lim[0], lim[1])
				}
				for j, f := range in.friends {
					if want := fmt.Sprintf("%s-f%d", prefix, j); f.p.id != want {
						t.Errorf("friend id %q, want %q", f.p.id, want)
					}
					if ids[f.p.id] {
						t.Errorf("friend id %q planned twice", f.p.id)
					}
					ids[f.p.id] = true
					if len(f.clicks) == 0 {
						t.Errorf("%s: no click", f.p.id)
					}
					if f.refund && !f.purchase {
						t.Errorf("%s: a refund without a purchase", f.p.id)
					}
					if !strings.Contains(f.p.email, "@") || f.p.name == "" {
						t.Errorf("%s: email %q name %q", f.p.id, f.p.email, f.p.name)
					}
				}
			}
		})
	}
}

func TestPlanIsReproducible(t *testing.T) {
	a, b, c := plan(11, 1), plan(11, 1), plan(12, 1)
	if len(a) != len(b) {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	same := func(x, y []*instance) bool {
		for i := range x {
			if x[i].advocate != y[i].advocate || len(x[i].friends) != len(y[i].friends) || x[i].arrival != y[i].arrival {
				return false
			}
			for j := range x[i].friends {
				if x[i].friends[j].p != y[i].friends[j].p || x[i].friends[j].purchase != y[i].friends[j].purchase {
					return false
				}
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("two plans of seed 11 differ")
	}
	if len(a) == len(c) && same(a, c) {
		t.Error("seeds 11 and 12 plan the same traffic")
	}
	total := 0
	for _, sc := range Scenarios {
		total += sc.Instances
	}
	if len(a) != total {
		t.Errorf("scale 1 plans %d instances, want %d", len(a), total)
	}
	if n := len(plan(1, 0)); n != 0 {
		t.Errorf("scale 0 plans %d instances, want 0", n)
	}
}

// TestScenarioTraits checks what makes each scenario what it says it is.
func TestScenarioTraits(t *testing.T) {
	by := planFor(t)
	each := func(t *testing.T, name string, check func(in *instance, f friendPlan) string) {
		t.Helper()
		for _, in := range by[name] {
			for _, f := range in.friends {
				if msg := check(in, f); msg != "" {
					t.Errorf("%s: %s", f.p.id, msg)
				}
			}
		}
	}
	lastClick := func(f friendPlan) clickReq { return f.clicks[len(f.clicks)-1] }
	domain := func(email string) string { _, d, _ := strings.Cut(email, "@"); return d }
	tests := map[string]func(in *instance, f friendPlan) string{
		"household": func(in *instance, f friendPlan) string {
			if f.p.ip != in.advocate.ip {
				return "not on the advocate's home IP"
			}
			return ""
		},
		"office_nat": func(in *instance, f friendPlan) string {
			if f.p.ip != in.advocate.ip {
				return "not behind the office NAT"
			}
			if len(in.noise) != 1 || in.noise[0].ua != previewUAs[0] {
				return fmt.Sprintf("noise %+v, want one Slack preview", in.noise)
			}
			return ""
		},
		"newsletter": func(_ *instance, f friendPlan) string {
			if q := lastClick(f).query; q.Get("utm_source") != "newsletter" || q.Get("utm_medium") != "email" {
				return fmt.Sprintf("query %v", q)
			}
			return ""
		},
		"homonym": func(in *instance, f friendPlan) string {
			if f.p.name != in.advocate.name || f.p.email == in.advocate.email {
				return fmt.Sprintf("name %q/%q email %q/%q", f.p.name, in.advocate.name, f.p.email, in.advocate.email)
			}
			return ""
		},
		"plus_address": func(_ *instance, f friendPlan) string {
			if !strings.Contains(f.p.email, "+") {
				return "no +tag in " + f.p.email
			}
			return ""
		},
		"mobile_carrier": func(in *instance, f friendPlan) string {
			a, b := net.ParseIP(in.advocate.ip).To4(), net.ParseIP(f.p.ip).To4()
			if a == nil || b == nil || a[0] != 80 || a[1] < 214 || a[1] > 216 || a[1] != b[1] || a[2] != b[2] {
				return fmt.Sprintf("advocate %s and friend %s are not in one carrier pool", in.advocate.ip, f.p.ip)
			}
			return ""
		},
		"quick_refund_genuine": func(_ *instance, f friendPlan) string {
			if !f.purchase || !f.refund || f.activity < 2 || f.activity > 5 {
				return fmt.Sprintf("purchase %v refund %v activity %d", f.purchase, f.refund, f.activity)
			}
			return ""
		},
		"disposable_farm": func(_ *instance, f friendPlan) string {
			if !slices.Contains(disposableDomains, domain(f.p.email)) || f.p.device != "" {
				return fmt.Sprintf("email %q device %q", f.p.email, f.p.device)
			}
			return ""
		},
		"click_farm": func(in *instance, f friendPlan) string {
			if n := len(in.noise); n < 25 || n > 50 {
				return fmt.Sprintf("%d noise clicks, want 25–50", n)
			}
			for _, c := range append(slices.Clone(in.noise), f.clicks...) {
				if !c.headless || !slices.Contains(headlessUAs, c.ua) {
					return fmt.Sprintf("click %+v is not headless", c)
				}
			}
			return ""
		},
		"velocity_burst": func(_ *instance, f friendPlan) string {
			if !slices.Contains([]string{"gmail.com", "outlook.com", "yahoo.com", "hotmail.com"}, domain(f.p.email)) {
				return "email " + f.p.email
			}
			return ""
		},
		"coupon_leak": func(_ *instance, f friendPlan) string {
			c := lastClick(f)
			if (c.referer == "") == (c.query.Get("utm_source") == "") {
				return fmt.Sprintf("referer %q query %v: want exactly one of them", c.referer, c.query)
			}
			return ""
		},
		"never_active_refund": func(_ *instance, f friendPlan) string {
			if !f.purchase || !f.refund || f.activity != 0 {
				return fmt.Sprintf("purchase %v refund %v activity %d", f.purchase, f.refund, f.activity)
			}
			return ""
		},
	}
	for name, check := range tests {
		t.Run(name, func(t *testing.T) {
			if len(by[name]) == 0 {
				t.Fatalf("no instance of %q", name)
			}
			each(t, name, check)
		})
	}
}

func TestArrivalString(t *testing.T) {
	want := []string{"direct+cookie", "direct+code+cookie", "proxy+cookie", "proxy+code+cookie"}
	for i, a := range Arrivals {
		if got := a.String(); got != want[i] {
			t.Errorf("Arrivals[%d] = %q, want %q", i, got, want[i])
		}
	}
}

func TestServeFlags(t *testing.T) {
	got := strings.Join(ServeFlags(), " ")
	want := "--trusted-proxies " + ProxyAddr + " --public-rate 100000 --public-burst 100000 --api-rate-limit 0"
	if got != want {
		t.Errorf("ServeFlags = %q, want %q", got, want)
	}
}
