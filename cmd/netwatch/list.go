package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list interfaces: index, state, MTU, link speed and the backend that would serve them",
		Description: "Shows the selected interfaces (default all) and what `watch` with the same\n" +
			"--backend/--attach flags would use for them, without attaching anything.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", EnvVars: env("JSON"), Category: catOutput, Usage: "print one JSON object instead of a table"},
		}, commonFlags()...),
		Action:       listAction,
		OnUsageError: onUsageError,
	}
}

// listJSON is the `list --json` schema.
type listJSON struct {
	Backend    string          `json:"backend"`
	Attach     string          `json:"attach,omitempty"`
	Fallback   string          `json:"fallback,omitempty"`
	Interfaces []listInterface `json:"interfaces"`
}

type listInterface struct {
	Name         string `json:"name"`
	Index        int    `json:"index"`
	State        string `json:"state"`
	MTU          int    `json:"mtu"`
	SpeedMbps    uint64 `json:"speed_mbps,omitempty"`
	HardwareAddr string `json:"hardware_addr,omitempty"`
	Backend      string `json:"backend"`
	Attach       string `json:"attach,omitempty"`
	Netns        string `json:"netns,omitempty"`
	ContainerID  string `json:"container_id,omitempty"`
	PeerNetns    string `json:"peer_netns,omitempty"`
	// Problem says why watch would fail on this interface (a busy XDP hook).
	Problem string `json:"problem,omitempty"`
}

func listAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q (see 'netwatch list --help')", c.Args().First())
	}
	if _, err := newLogger(c); err != nil {
		return err
	}
	opts, err := backendOptions(c)
	if err != nil {
		return err
	}
	plan, err := decideBackend(c, opts)
	if err != nil {
		return err
	}
	src := plan.Source
	out := listJSON{Backend: src.Backend, Attach: src.Attach, Fallback: plan.Fallback, Interfaces: []listInterface{}}
	var peers map[int]stats.Labels
	if opts.Peers != nil {
		peers, _ = opts.Peers() // labels are a courtesy: list works without them
	}
	for _, o := range listNamespaces(opts) {
		infos, err := backend.ListPlanned(plan, o)
		if err != nil {
			if opts.Discover != nil && o.Netns.Set() {
				continue // --netns all: gone since it was found
			}
			return err
		}
		for _, info := range infos {
			if !opts.Selector.Match(info.Name) {
				continue
			}
			li := listInterface{
				Name: info.Name, Index: info.Index, State: info.State, MTU: info.MTU,
				SpeedMbps: info.SpeedMbps, HardwareAddr: info.HardwareAddr,
				Backend: src.Backend, Attach: src.Attach, Netns: o.Netns.Label, ContainerID: o.Netns.Container,
			}
			if p, ok := peers[info.Index]; ok && !o.Netns.Set() {
				li.PeerNetns, li.ContainerID = p.PeerNetns, p.Container
			}
			// What would make watch fail here (a busy XDP hook, no native
			// XDP): the same checks watch's attach runs into.
			if err := backend.AttachProblem(plan, o, info.Index); err != nil {
				li.Problem = trimPkg(err)
			}
			out.Interfaces = append(out.Interfaces, li)
		}
	}
	if len(out.Interfaces) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: %s\n", emptySelection(c))
	}
	w := bufio.NewWriter(c.App.Writer)
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(out)
	} else {
		err = writeListTable(w, out)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return quietPipe(err)
}

// writeListTable writes the table of list; the fallback notice, if any,
// went to stderr (decideBackend).
func writeListTable(w *bufio.Writer, l listJSON) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	netns := slices.ContainsFunc(l.Interfaces, func(i listInterface) bool { return i.Netns != "" })
	containers := slices.ContainsFunc(l.Interfaces, func(i listInterface) bool { return i.ContainerID != "" })
	head := "INDEX\tNAME\tSTATE\tMTU\tSPEED\tBACKEND"
	if containers {
		head += "\tCONTAINER"
	}
	if netns {
		head += "\tNETNS"
	}
	fmt.Fprintln(tw, head)
	for _, i := range l.Interfaces {
		speed, mtu := "-", "-"
		if i.SpeedMbps > 0 {
			speed = formatSpeed(i.SpeedMbps)
		}
		if i.MTU > 0 { // 0: unknown (procfs with --netns pid:PID)
			mtu = fmt.Sprint(i.MTU)
		}
		be := i.Backend
		if i.Attach != "" {
			be += " (" + i.Attach + ")"
		}
		if i.Problem != "" {
			be += ": " + i.Problem
		}
		if containers {
			be += "\t" + output.ShortID(i.ContainerID)
		}
		if netns {
			be += "\t" + cmp.Or(i.Netns, "-")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i.Index, i.Name, i.State, mtu, speed, be)
	}
	return tw.Flush()
}

func formatSpeed(mbps uint64) string {
	if mbps >= 1000 && mbps%1000 == 0 {
		return fmt.Sprintf("%dGbit/s", mbps/1000)
	}
	return fmt.Sprintf("%dMbit/s", mbps)
}

// listNamespaces returns the options of each namespace list shows: the
// ones named, and with --netns all the ones there now.
func listNamespaces(opts backend.Options) []backend.Options {
	if opts.Discover == nil {
		return opts.PerNamespace()
	}
	found, err := opts.Discover()
	if err != nil {
		return opts.PerNamespace()
	}
	o := opts
	o.Namespaces = found
	return o.PerNamespace()
}
