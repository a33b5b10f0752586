package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// manPages renders netwatch(1) and one page per command, netwatch-CMD(1),
// from the CLI's own definitions (urfave/cli's ToMan), so the pages say
// exactly what --help says. Returns file name -> roff.
func manPages(app *cli.App) (map[string]string, error) {
	pages := map[string]string{}
	page, err := app.ToManWithSection(1)
	if err != nil {
		return nil, err
	}
	pages[app.Name+".1"] = page
	for _, cmd := range app.Commands {
		if cmd.Hidden {
			continue
		}
		name := app.Name + "-" + cmd.Name
		sub := &cli.App{
			Name:  name,
			Usage: cmd.Usage,
			UsageText: app.Name + " " + cmd.Name + " [options]" +
				strings.TrimRight(" "+cmd.ArgsUsage, " ") +
				"\n\nSee netwatch(1) for the other commands.",
			Description: cmd.Description,
			Flags:       cmd.Flags,
		}
		page, err := sub.ToManWithSection(1)
		if err != nil {
			return nil, err
		}
		// A command's options are not global: say OPTIONS.
		pages[name+".1"] = strings.Replace(page, ".SH GLOBAL OPTIONS", ".SH OPTIONS", 1)
	}
	return pages, nil
}

// TestManPages checks that every command gets a page that documents its
// flags. With NETWATCH_MAN_DIR set it also writes the pages there: the
// release build (scripts/release/build.sh) generates the Debian package's
// man pages this way.
func TestManPages(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	pages, err := manPages(app)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pages["netwatch.1"]; !ok {
		t.Fatal("no netwatch.1")
	}
	for _, cmd := range app.Commands {
		if cmd.Hidden {
			continue
		}
		page, ok := pages["netwatch-"+cmd.Name+".1"]
		if !ok {
			t.Errorf("no page for %s", cmd.Name)
			continue
		}
		if !strings.Contains(page, `.TH netwatch-`+cmd.Name+` 1`) {
			t.Errorf("netwatch-%s.1 has no .TH line:\n%.300s", cmd.Name, page)
		}
		for _, f := range cmd.VisibleFlags() {
			name := f.Names()[0]
			if name == "help" {
				continue
			}
			if !strings.Contains(page, "--"+name) {
				t.Errorf("netwatch-%s.1 does not document --%s", cmd.Name, name)
			}
		}
	}
	dir := os.Getenv("NETWATCH_MAN_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, page := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
