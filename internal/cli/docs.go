package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/report"
)

func newDocsCommand(app *App) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Write the knowledge base as Markdown pages: one per rule, and an index",
		Long: `docs writes a Markdown page per rule (front matter: title, tags, keywords,
last_updated, summary, permalink), from the same embedded pages 'rootwatch explain'
shows, and an index grouped by severity and tag. The repository keeps them in
docs/rules/; a test fails when they differ from what the catalog generates.`,
		Example: "  rootwatch docs --out docs/rules",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			meta, err := report.CatalogMeta()
			if err != nil {
				return err
			}
			files, err := report.WriteDocs(meta, out)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			_, err = fmt.Fprintf(app.Stdout, "wrote %d pages to %s\n", len(files), out)
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "docs/rules", "directory to write the pages into")
	return cmd
}
