package server

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/config"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/compatibility.md from the command table")

// TestCompatibilityDoc keeps docs/compatibility.md equal to what the command
// table and the config registry say: run `go test ./internal/server -run
// CompatibilityDoc -update-docs` after adding commands or directives.
func TestCompatibilityDoc(t *testing.T) {
	s, err := New(config.New())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("# Compatibility\n\n")
	b.WriteString("Generated from the command table and the config registry by\n")
	b.WriteString("`go test ./internal/server -run CompatibilityDoc -update-docs`; do not edit by hand.\n\n")
	b.WriteString("Corvid follows Redis 7.2's semantics. A command not listed here answers\n")
	b.WriteString("`ERR unknown command`, as Redis does for commands it does not have.\n\n")
	b.WriteString("## Commands\n\n| command | group | arity | flags |\n|---|---|---|---|\n")
	n := 0
	for _, c := range s.Table.All() {
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", strings.ToUpper(c.Name), c.Group, c.Arity, strings.Join(c.Flags.Names(), ", "))
		n++
		subs := append(c.Subcommands[:0:0], c.Subcommands...)
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
		for _, sc := range subs {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", strings.ToUpper(strings.ReplaceAll(sc.Name, "|", " ")), c.Group, sc.Arity, strings.Join(sc.Flags.Names(), ", "))
		}
	}
	fmt.Fprintf(&b, "\n%d commands.\n\n", n)
	b.WriteString("## Configuration directives\n\nEvery Redis 7.2 directive is accepted (so existing redis.conf files and\n")
	b.WriteString("`CONFIG GET *` work); those marked *yes* change Corvid's behaviour today, the\n")
	b.WriteString("others are stored and reported but not acted on yet.\n\n| directive | acts on it |\n|---|---|\n")
	for _, d := range config.Directives() {
		acts := "no"
		if d.Implemented {
			acts = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", d.Name, acts)
	}
	want := b.String()
	const path = "../../docs/compatibility.md"
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("docs/compatibility.md is stale: run go test ./internal/server -run CompatibilityDoc -update-docs")
	}
}
