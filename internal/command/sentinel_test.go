package command

import (
	"slices"
	"testing"
)

// sentinelTestCommands are a container with a subcommand a sentinel lacks,
// a command only a sentinel has, and one it lacks.
func sentinelTestCommands() []*Command {
	return []*Command{
		{Name: "client", Arity: -2, Flags: Sentinel, Subcommands: []*Command{
			{Name: "client|id", Arity: 2, Flags: Sentinel},
			{Name: "client|no-touch", Arity: 3},
		}},
		{Name: "sentinel", Arity: -2, Flags: Sentinel | OnlySentinel, Subcommands: []*Command{
			{Name: "sentinel|myid", Arity: 2, Flags: Sentinel | OnlySentinel},
		}},
		{Name: "get", Arity: 2},
	}
}

func tableNames(t *Table) []string {
	var out []string
	for _, c := range t.All() {
		out = append(out, c.Name)
		for _, s := range c.Subcommands {
			out = append(out, s.Name)
		}
	}
	return out
}

func TestTableSentinelMode(t *testing.T) {
	normal := []string{"client", "client|id", "client|no-touch", "get"}
	sentinel := []string{"client", "client|id", "sentinel", "sentinel|myid"}

	tab := NewTable()
	tab.Register(sentinelTestCommands()...)
	if got := tableNames(tab); !slices.Equal(got, normal) || tab.Len() != 2 || tab.SentinelMode() {
		t.Fatalf("normal table: %v", got)
	}
	if tab.Lookup([]byte("SENTINEL")) != nil || tab.Declared("sentinel") == nil {
		t.Error("SENTINEL exists in a normal table, or is not declared")
	}
	if err := tab.Rename("get", "fetch"); err != nil {
		t.Fatal(err)
	}

	// Switching undoes the rename and keeps only the sentinel's commands.
	tab.SetSentinelMode()
	if got := tableNames(tab); !slices.Equal(got, sentinel) || tab.Len() != 2 || !tab.SentinelMode() || tab.Renamed() {
		t.Fatalf("switched table: %v", got)
	}
	client := tab.Lookup([]byte("client"))
	if client.Sub([]byte("no-touch")) != nil || client.Sub([]byte("ID")) == nil || client.Sub([]byte("id")).Parent != client {
		t.Error("CLIENT's subcommands in sentinel mode")
	}
	if err := tab.Rename("get", "fetch"); err == nil {
		t.Error("renamed GET in sentinel mode")
	}

	// A table switched before registering builds the same.
	tab = NewTable()
	tab.SetSentinelMode()
	tab.Register(sentinelTestCommands()...)
	if got := tableNames(tab); !slices.Equal(got, sentinel) {
		t.Fatalf("sentinel table: %v", got)
	}

	// Hidden from COMMAND, as Redis hides them.
	if n := (Sentinel | OnlySentinel | Admin).Names(); !slices.Equal(n, []string{"admin"}) {
		t.Errorf("flag names: %v", n)
	}
}
