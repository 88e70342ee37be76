package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// ParamRootEmailDomains lists the domains root e-mail addresses may be on.
const ParamRootEmailDomains = "root_email_domains"

func orgRootEmailOutsideDomains() Rule {
	return Rule{
		ID: "org-root-email-outside-domains", Title: "Root e-mail address on a free-mail provider or outside the organization's domains",
		Severity: finding.SeverityMedium, Category: "organization", Sources: []string{evidence.SourceRootEmail},
		Params: []Param{{Name: ParamRootEmailDomains, Kind: KindList, Check: checkDomain,
			Doc:        "the domains root e-mail addresses may be on, each with its subdomains",
			DefaultDoc: "the management account's e-mail domain and its subdomains"}},
		Eval: evalRootEmail,
	}
}

// evalRootEmail judges the domain of the root user's e-mail address, which
// only an organization scan reads (ListAccounts): a free-mail domain
// fails, whatever the allowed domains; so does a domain outside them.
func evalRootEmail(in Input) []Result {
	a := in.Account
	re := a.RootEmail
	if re == nil {
		if r := sourceProblem(a, evidence.SourceRootEmail, "the root e-mail address"); r != nil && a.Source(evidence.SourceRootEmail).State != evidence.StateMissing {
			return one(*r)
		}
		return one(Result{Status: finding.StatusNotApplicable, Evidence: map[string]any{"source": evidence.SourceRootEmail},
			Message: "The root user's e-mail address is known only to an organization scan (ListAccounts in the management account); this scan does not know it."})
	}
	ev := map[string]any{"source": evidence.SourceRootEmail, "read_with": re.Source}
	if re.Problem != "" {
		ev["problem"] = re.Problem
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge the root e-mail address: %s.", re.Problem)})
	}
	shown := re.Domain
	if re.DomainText != "" {
		shown = re.DomainText
		ev["domain_ascii"] = re.Domain
	}
	ev["domain"], ev["address"] = shown, re.Masked
	if entry, why := freeMail(re.Domain); why != "" {
		ev["free_mail"] = entry
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("The root e-mail address (%s) is on %s, %s. Whoever reads that mailbox can recover the root password.", re.Masked, shown, why)})
	}
	allowed, from := in.Settings.List(ParamRootEmailDomains), "root_email_domains"
	if allowed == nil {
		if re.ManagementDomain == "" {
			why := re.ManagementProblem
			if why == "" {
				why = "the organization scan did not record it"
			}
			ev["management_problem"] = why
			return one(Result{Status: finding.StatusUnknown, Evidence: ev,
				Message: fmt.Sprintf("The root e-mail address (%s) is on no free-mail provider, but there is no domain to judge it against: the management account's e-mail domain is unknown (%s); set rules.org-root-email-outside-domains.%s.", re.Masked, why, ParamRootEmailDomains)})
		}
		allowed, from = []string{re.ManagementDomain}, "the management account's e-mail domain"
	}
	ev["allowed_domains"], ev["allowed_from"] = allowed, from
	for _, d := range allowed {
		if evidence.InDomain(re.Domain, d) {
			return one(Result{Status: finding.StatusPass, Evidence: ev,
				Message: fmt.Sprintf("The root e-mail address (%s) is on %s, within %s (%s), and on no free-mail provider.", re.Masked, shown, from, d)})
		}
	}
	list := "(" + strings.Join(allowed, ", ") + ")"
	if len(allowed) == 0 {
		list = "(an empty list: no domain is allowed)"
	}
	return one(Result{Status: finding.StatusFail, Evidence: ev,
		Message: fmt.Sprintf("The root e-mail address (%s) is on %s, outside %s %s. Whoever reads that mailbox can recover the root password; the organization should control it.",
			re.Masked, shown, from, list)})
}
