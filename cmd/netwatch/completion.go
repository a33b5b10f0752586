package main

import (
	"fmt"

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
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.App.Writer, script)
				return err
			default:
				return usagef("completion: want bash, zsh or fish, got %q", shell)
			}
		},
	}
}
