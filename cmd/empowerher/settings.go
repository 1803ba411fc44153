package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Settings come from, in order of precedence: a command-line flag, its
// environment variable (EMPOWERHER_ + the flag name upper-cased with '-'
// turned into '_': --cancel-window → EMPOWERHER_CANCEL_WINDOW), a config
// file (--config FILE or EMPOWERHER_CONFIG), then the flag's default.
//
// The config file is either JSON ({"cancel-window": "5s"}) or KEY=VALUE
// lines, where KEY is a flag name or its environment name, '#' starts a
// comment line and a value may be wrapped in double quotes.

// envName is the environment variable for a flag.
func envName(flagName string) string {
	return "EMPOWERHER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applySettings fills every flag not given on the command line from the
// environment or the config file. configFlag names the flag holding the
// config file path ("" when the command has none).
func applySettings(fs *flag.FlagSet, configFlag string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var file map[string]string
	if configFlag != "" {
		path := fs.Lookup(configFlag).Value.String()
		if !set[configFlag] {
			if v, ok := os.LookupEnv(envName(configFlag)); ok {
				path = v
				_ = fs.Set(configFlag, v)
			}
		}
		if path != "" {
			var err error
			if file, err = readConfigFile(path, fs); err != nil {
				return err
			}
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == configFlag {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		src := envName(f.Name)
		if !ok {
			v, ok = file[f.Name]
			src = "config file key " + f.Name
		}
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: invalid value %q for --%s: %v", src, redactValue(f.Name, v), f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// redactValue hides secret values in error messages.
func redactValue(name, v string) string {
	if strings.Contains(name, "secret") || strings.Contains(name, "token") || strings.Contains(name, "password") {
		return "(redacted)"
	}
	return v
}

func readConfigFile(path string, fs *flag.FlagSet) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	out := map[string]string{}
	known := func(key string) (string, error) {
		name := key
		if strings.HasPrefix(key, "EMPOWERHER_") {
			name = strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(key, "EMPOWERHER_")), "_", "-")
		}
		if fs.Lookup(name) == nil {
			return "", fmt.Errorf("config file %s: unknown setting %q", path, key)
		}
		return name, nil
	}
	if trimmed := strings.TrimSpace(string(b)); strings.HasPrefix(trimmed, "{") {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name, err := known(k)
			if err != nil {
				return nil, err
			}
			switch v := m[k].(type) {
			case string:
				out[name] = v
			case bool, float64:
				out[name] = fmt.Sprint(v)
			case []any:
				parts := make([]string, len(v))
				for i, p := range v {
					parts[i] = fmt.Sprint(p)
				}
				out[name] = strings.Join(parts, ",")
			default:
				return nil, fmt.Errorf("config file %s: %s: want a string, number, boolean or list", path, k)
			}
		}
		return out, nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s:%d: want KEY=VALUE", path, n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		name, err := known(k)
		if err != nil {
			return nil, fmt.Errorf("%w (line %d)", err, n)
		}
		out[name] = v
	}
	return out, nil
}

// flagUsage prints each flag with its environment variable.
func flagUsage(fs *flag.FlagSet, header string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, header)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s %s\n      %s\n      env %s", f.Name, name, usage, envName(f.Name))
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				fmt.Fprintf(w, ", default %s", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
}

// readSecret returns value, or the trimmed contents of file when value is
// empty and file is set. Secrets are passed this way (env or file), never
// stored in code or the database.
func readSecret(value, file, what string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s file: %w", what, err)
	}
	return strings.TrimSpace(string(b)), nil
}
