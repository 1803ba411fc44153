package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

func init() {
	commands["user"] = command{summary: "manage accounts: user add NAME, user token NAME", run: runUser}
}

// newAPIToken is 256 random bits, base64url; only its SHA-256 is stored.
func newAPIToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func userUsage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  empowerher user add   [--data DIR] [--db DSN] [--display-name X] NAME   create a user, print an API token
  empowerher user token [--data DIR] [--db DSN] [--label L] NAME          print a new API token for NAME

The token is printed on the last line of output; it is shown once and only
its hash is stored. Use it as "Authorization: Bearer TOKEN".`)
}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		userUsage(stderr)
		if len(args) == 0 {
			return exitError{2}
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./empowerher-data", "data `DIR` (SQLite)")
	db := fs.String("db", "", "database `DSN` (postgres://…)")
	display := fs.String("display-name", "", "how alerts name the user (default: NAME)")
	label := fs.String("label", "cli", "a note kept with the token")
	fs.Usage = func() { userUsage(stderr) }
	// Flags may come before or after NAME.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return exitError{2}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := applySettings(fs, ""); err != nil {
		return err
	}
	if len(pos) != 1 {
		userUsage(stderr)
		return exitError{2}
	}
	name := strings.TrimSpace(pos[0])
	if name == "" || len(name) > 64 || !utf8.ValidString(name) || strings.ContainsAny(name, " \t\r\n/") {
		return fmt.Errorf("NAME must be 1-64 characters without spaces or slashes")
	}
	st, err := openStore(ctx, *db, *data)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	var u *store.User
	switch sub {
	case "add":
		u = &store.User{Name: name, DisplayName: strings.TrimSpace(*display)}
		if u.DisplayName == "" {
			u.DisplayName = name
		}
		if err := st.CreateUser(ctx, u, nil); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("a user named %q already exists (use `empowerher user token %s` for a new token)", name, name)
			}
			return err
		}
		fmt.Fprintf(stdout, "created user %q (id %d)\n", u.Name, u.ID)
	case "token":
		if u, _, err = st.UserByName(ctx, name); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no user named %q", name)
			}
			return err
		}
	default:
		userUsage(stderr)
		return exitError{2}
	}
	token := newAPIToken()
	if err := st.AddToken(ctx, u.ID, incident.HashToken(token), *label); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "API token (shown once; use as Authorization: Bearer TOKEN):")
	tw.Flush()
	fmt.Fprintln(stdout, token)
	return nil
}
