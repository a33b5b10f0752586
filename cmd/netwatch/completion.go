package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// bashCompletion is urfave/cli's bash completion script for netwatch.
const bashCompletion = `# bash completion for netwatch; load with: source <(netwatch completion bash)
_netwatch_complete() {
  local cur opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == "-"* ]]; then
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "${cur}" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -o nospace -F _netwatch_complete netwatch
`

// zshCompletion is urfave/cli's zsh completion script for netwatch.
const zshCompletion = `#compdef netwatch
# zsh completion for netwatch; load with: source <(netwatch completion zsh)
_netwatch() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _netwatch netwatch
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "Load it in the running shell, for example:\n" +
			"   source <(netwatch completion bash)\n" +
			"   netwatch completion fish > ~/.config/fish/completions/netwatch.fish",
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return quietPipe(err)
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return quietPipe(err)
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.App.Writer, script)
				return quietPipe(err)
			default:
				return usagef("completion: want bash, zsh or fish, got %q", shell)
			}
		},
	}
}

// writeCompletions answers `netwatch WORDS... --generate-bash-completion`,
// what the completion scripts run: when the last word starts with "-" it is
// the option being typed, and every option of the command (the global
// options before a command) that starts with it is printed, one a line;
// otherwise the scripts want the next word, and the command names are
// printed while no command has been given. Nothing is offered after a "--"
// word (only arguments follow it).
// It never fails: whatever the words, the answer is a list, maybe empty.
func writeCompletions(w io.Writer, app *cli.App, words []string) {
	var cur string
	if n := len(words); n > 0 && strings.HasPrefix(words[n-1], "-") {
		cur, words = words[n-1], words[:n-1]
	}
	if slices.Contains(words, "--") {
		return
	}
	var cmd *cli.Command
	flags := globalFlags(app)
	for i := 0; i < len(words); i++ {
		word := words[i]
		if word == "-" || !strings.HasPrefix(word, "-") {
			if cmd == nil {
				if cmd = app.Command(word); cmd != nil {
					flags = commandFlags(cmd)
				}
			}
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(word, "-"), "=")
		k := slices.IndexFunc(flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
		if _, isBool := flags[max(k, 0)].(*cli.BoolFlag); k >= 0 && !hasValue && !isBool {
			i++ // the next word is the flag's value
		}
	}
	if cur == "" {
		if cmd == nil {
			for _, c := range app.VisibleCommands() {
				fmt.Fprintln(w, c.Name)
			}
		}
		return
	}
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		for _, name := range f.Names() {
			form := "--" + name
			if len(name) == 1 {
				form = "-" + name
			}
			if strings.HasPrefix(form, cur) {
				fmt.Fprintln(w, form)
			}
		}
	}
}
