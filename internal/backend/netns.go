package backend

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// NetnsDir is where `ip netns add` names namespaces.
const NetnsDir = "/run/netns"

// Netns is a network namespace named by the user: --netns NAME, PATH or
// pid:PID. The zero value is netwatch's own namespace.
type Netns struct {
	// Label is what the user gave, shown with every interface.
	Label string
	// Path is the namespace file to setns(2) into.
	Path string
	// PID is the process named by pid:PID, 0 otherwise: procfs reads
	// /proc/PID/net/dev, which needs no setns.
	PID int
	// Container is the id of the container whose namespace this is, when
	// --netns all found it through a container's process.
	Container string
}

// nsID is a namespace's identity: the nsfs device and inode of its file.
type nsID struct{ dev, ino uint64 }

// ParseNetns reads a --netns value: pid:PID (that process's namespace), a
// path (anything with a slash: /proc/1234/ns/net, /run/netns/blue), or the
// name of a namespace in /run/netns.
func ParseNetns(spec string) (Netns, error) {
	if spec == "" {
		return Netns{}, nil
	}
	if rest, ok := strings.CutPrefix(spec, "pid:"); ok {
		pid, err := strconv.Atoi(rest)
		if err != nil || pid <= 0 {
			return Netns{}, fmt.Errorf("netns %q: want pid:PID with a process id", spec)
		}
		return Netns{Label: spec, Path: fmt.Sprintf("/proc/%d/ns/net", pid), PID: pid}, nil
	}
	if strings.Contains(spec, "/") {
		return Netns{Label: spec, Path: spec}, nil
	}
	if spec == "." || spec == ".." {
		return Netns{}, fmt.Errorf("netns %q: not a namespace name", spec)
	}
	return Netns{Label: spec, Path: filepath.Join(NetnsDir, spec)}, nil
}

// All is the --netns value that reads every named namespace and every
// container's namespace, following them as they come and go.
const All = "all"

// ParseNetnsList reads a --netns value that may name several namespaces,
// separated by commas; all stands for every named and container namespace
// (see All). Each other item is read by ParseNetns.
func ParseNetnsList(spec string) (list []Netns, all bool, err error) {
	if spec == "" {
		return nil, false, nil
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		switch item {
		case "":
			return nil, false, fmt.Errorf("netns %q: empty item in the list", spec)
		case All:
			all = true
			continue
		}
		ns, err := ParseNetns(item)
		if err != nil {
			return nil, false, err
		}
		list = append(list, ns)
	}
	return list, all, nil
}

// Set reports whether a namespace was named.
func (n Netns) Set() bool { return n.Path != "" }
