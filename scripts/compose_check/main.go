// compose-check loads compose files with Compose's own loader (compose-go, the library the
// `docker compose` CLI is built on) and fails on any error or warning, as `docker compose config`
// would show them. It also checks what `config` leaves to `up`: build contexts, Dockerfiles and
// bind-mount sources must exist.
//
//	compose-check [-env-file FILE]... [-print] compose.yaml...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

type envFiles []string

func (e *envFiles) String() string     { return strings.Join(*e, ",") }
func (e *envFiles) Set(v string) error { *e = append(*e, v); return nil }

// warnings records every warning the loader logs (unset variables, obsolete keys, ...).
type warnings struct{ messages []string }

func (w *warnings) Levels() []logrus.Level {
	return []logrus.Level{logrus.WarnLevel, logrus.ErrorLevel}
}

func (w *warnings) Fire(entry *logrus.Entry) error {
	w.messages = append(w.messages, entry.Message)
	return nil
}

func missingPaths(project *types.Project) []string {
	var missing []string
	exists := func(service, what, path string) {
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, fmt.Sprintf("service %q: %s %s does not exist", service, what, path))
		}
	}
	for _, name := range project.ServiceNames() {
		service := project.Services[name]
		if service.Build != nil {
			exists(name, "build context", service.Build.Context)
			dockerfile := service.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(service.Build.Context, dockerfile)
			}
			exists(name, "dockerfile", dockerfile)
		}
		for _, volume := range service.Volumes {
			if volume.Type == types.VolumeTypeBind {
				exists(name, "bind mount source", volume.Source)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

func main() {
	var files envFiles
	flag.Var(&files, "env-file", "environment file for interpolation (repeatable; default .env)")
	print := flag.Bool("print", false, "print the resolved model, as `docker compose config` does")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-env-file FILE]... [-print] compose.yaml...")
		os.Exit(2)
	}
	hook := &warnings{}
	logrus.AddHook(hook)
	logrus.SetOutput(os.Stderr)

	options, err := cli.NewProjectOptions(
		flag.Args(),
		cli.WithOsEnv,
		cli.WithEnvFiles(files...),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
	problems := append(hook.messages, missingPaths(project)...)
	if len(problems) > 0 {
		for _, problem := range problems {
			fmt.Fprintln(os.Stderr, "compose-check:", problem)
		}
		os.Exit(1)
	}
	if *print {
		resolved, err := project.MarshalYAML()
		if err != nil {
			fmt.Fprintln(os.Stderr, "compose-check:", err)
			os.Exit(1)
		}
		os.Stdout.Write(resolved)
	}
	fmt.Fprintf(os.Stderr, "compose-check: %s valid (%d services, %d volumes, %d networks)\n",
		strings.Join(flag.Args(), ", "), len(project.Services), len(project.Volumes),
		len(project.Networks))
}
