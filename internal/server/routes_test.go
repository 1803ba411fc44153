package server

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestAPIDocListsEveryRoute keeps docs/api.md's route table and routes.go
// in step: every registered pattern is documented, and nothing else is.
func TestAPIDocListsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `((?:GET|POST|PUT|DELETE|PATCH) /[^`]*)` \\|")
	var documented []string
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			documented = append(documented, m[1])
		}
	}
	registered := Patterns()
	sort.Strings(documented)
	sort.Strings(registered)
	if strings.Join(documented, "\n") != strings.Join(registered, "\n") {
		t.Fatalf("docs/api.md routes:\n  %s\nroutes.go:\n  %s",
			strings.Join(documented, "\n  "), strings.Join(registered, "\n  "))
	}
	if len(registered) < 20 {
		t.Fatalf("only %d routes parsed", len(registered))
	}
}
