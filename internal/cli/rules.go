package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

func newRulesCommand(app *App) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalog",
		Long: `rules lists every rule rootwatch evaluates, with its severity and title;
--format json adds each rule's sources, summary, frameworks and settings
(the keys a --config file may set under rules.<id>, with their defaults).
Read one rule's page with 'rootwatch explain RULE'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			type param struct {
				Name    string `json:"name"`
				Kind    string `json:"kind"`
				Default string `json:"default"`
				Doc     string `json:"doc"`
			}
			type entry struct {
				ID         string              `json:"id"`
				Title      string              `json:"title"`
				Severity   string              `json:"severity"`
				Category   string              `json:"category"`
				Sources    []string            `json:"sources"`
				Summary    string              `json:"summary"`
				Frameworks []finding.Framework `json:"frameworks"`
				Params     []param             `json:"params"`
			}
			var list []entry
			for _, r := range rules.Catalog() {
				p, err := rules.LoadPage(r.ID)
				if err != nil {
					return err
				}
				params := []param{}
				for _, x := range r.Params {
					params = append(params, param{x.Name, string(x.Kind), x.DefaultText(), x.Doc})
				}
				list = append(list, entry{r.ID, r.Title, string(r.Severity), r.Category, r.Sources, p.Summary, p.Frameworks, params})
			}
			switch format {
			case "json":
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			case "table":
				w := 0
				for _, e := range list {
					w = max(w, len(e.ID))
				}
				fmt.Fprintf(app.Stdout, "%-*s  %-8s  %s\n", w, "RULE", "SEVERITY", "TITLE")
				for _, e := range list {
					fmt.Fprintf(app.Stdout, "%-*s  %-8s  %s\n", w, e.ID, e.Severity, e.Title)
				}
				return nil
			}
			return usageErr("--format must be table or json")
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	return cmd
}

func newExplainCommand(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "explain RULE",
		Short: "Show a rule's knowledge-base page: why it matters and what to do",
		Example: `  rootwatch explain iam-root-active-password
  rootwatch rules            # to list rule ids`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var ids []string
			for _, r := range rules.Catalog() {
				ids = append(ids, r.ID)
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, ok := rules.ByID(args[0])
			if !ok {
				var ids []string
				for _, r := range rules.Catalog() {
					ids = append(ids, r.ID)
				}
				return usageErr("no rule %q; rules are: %s", args[0], strings.Join(ids, ", "))
			}
			p, err := rules.LoadPage(r.ID)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(app.Stdout, RenderPage(r, p))
			return err
		},
	}
}

var (
	mdLink = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`)
	mdCode = regexp.MustCompile("`([^`]+)`")
	mdBold = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// RenderPage turns a knowledge-base page into plain text for a terminal:
// headings underlined, links as "text <url>", Markdown markers removed.
func RenderPage(r rules.Rule, p rules.Page) string {
	var b strings.Builder
	title := fmt.Sprintf("%s (%s)", p.Title, r.ID)
	fmt.Fprintf(&b, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(&b, "Severity: %s   Category: %s   Tags: %s\n", r.Severity, r.Category, strings.Join(p.Tags, ", "))
	if len(p.Frameworks) > 0 {
		var fw []string
		for _, f := range p.Frameworks {
			fw = append(fw, fmt.Sprintf("%s v%s %s", f.Framework, f.Version, f.Control))
		}
		fmt.Fprintf(&b, "Frameworks: %s\n", strings.Join(fw, "; "))
	}
	for _, x := range r.Params {
		fmt.Fprintf(&b, "Setting: rules.%s.%s (%s, default %s): %s\n", r.ID, x.Name, x.Kind, x.DefaultText(), x.Doc)
	}
	fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(p.Summary))
	for _, sec := range []string{"Details", "Suggested Action", "References"} {
		fmt.Fprintf(&b, "\n%s\n%s\n", sec, strings.Repeat("-", len(sec)))
		text := mdLink.ReplaceAllString(p.Sections[sec], "$1 <$2>")
		text = mdBold.ReplaceAllString(text, "$1")
		text = mdCode.ReplaceAllString(text, "$1")
		fmt.Fprintf(&b, "%s\n", text)
	}
	return b.String()
}
