package netnsinfo

import "strings"

// ContainerIDFromCgroup reads the content of a /proc/PID/cgroup file (cgroup
// v1 "ID:controllers:/path" lines, the v2 "0::/path" line, or both on a
// hybrid host) and returns the id of the container the process runs in and
// the runtime that made it. ok is false, and id and runtime empty, for a
// process in no container (a system service, a user session, the root).
//
// A container id is 64 lowercase hex digits, found in one path segment:
//
//	/docker/<id>                                  docker, cgroupfs driver
//	/system.slice/docker-<id>.scope               docker, systemd driver
//	.../cri-containerd-<id>.scope                 containerd (CRI)
//	.../nerdctl-<id>.scope                        containerd (nerdctl)
//	.../crio-<id>.scope                           cri-o
//	.../libpod-<id>.scope                         podman
//	/kubepods/<qos>/pod<uid>/<id>                 Kubernetes, cgroupfs driver
//
// Runtime helpers get their own cgroups with other prefixes and are not
// containers: crio-conmon-<id>.scope, libpod-conmon-<id>.scope. The last
// matching segment of a path wins (the innermost of nested containers, and
// a container whose processes sit in a child cgroup such as
// libpod-<id>.scope/container); the first line with a match wins.
func ContainerIDFromCgroup(content string) (id, runtime string, ok bool) {
	for content != "" {
		var line string
		line, content, _ = strings.Cut(content, "\n")
		if id, runtime, ok := fromLine(line); ok {
			return id, runtime, true
		}
	}
	return "", "", false
}

// fromLine parses one "hierarchy-ID:controller-list:cgroup-path" line.
func fromLine(line string) (id, runtime string, ok bool) {
	hier, rest, found := strings.Cut(line, ":")
	if !found || hier == "" || !allDigits(hier) {
		return "", "", false
	}
	_, path, found := strings.Cut(rest, ":") // a path may itself hold ':'
	if !found {
		return "", "", false
	}
	path = strings.TrimRight(path, " \r\t")
	for end := len(path); end > 0; {
		start := strings.LastIndexByte(path[:end], '/') + 1
		seg := path[start:end]
		if id, runtime, ok := fromSegment(seg); ok {
			if runtime == "" {
				runtime = bareRuntime(path[:start])
			}
			return id, runtime, true
		}
		end = start - 1
	}
	return "", "", false
}

// prefixes maps the "<prefix>-<id>[.scope]" cgroup names of runtimes to
// the runtime. A prefix must match exactly, so crio-conmon-<id> and
// libpod-conmon-<id> (the runtimes' monitor processes) do not count.
var prefixes = map[string]string{
	"docker":         RuntimeDocker,
	"cri-containerd": RuntimeContainerd,
	"nerdctl":        RuntimeContainerd,
	"crio":           RuntimeCRIO,
	"libpod":         RuntimePodman,
}

// fromSegment finds a container id in one path segment; runtime is empty for
// a bare id (the parents tell, see bareRuntime).
func fromSegment(seg string) (id, runtime string, ok bool) {
	seg = strings.TrimSuffix(seg, ".scope")
	if isID(seg) {
		return seg, "", true
	}
	if len(seg) <= idLen+1 || seg[len(seg)-idLen-1] != '-' {
		return "", "", false
	}
	prefix, id := seg[:len(seg)-idLen-1], seg[len(seg)-idLen:]
	runtime, known := prefixes[prefix]
	if !known || !isID(id) {
		return "", "", false
	}
	return id, runtime, true
}

// bareRuntime tells the runtime of a bare /<id> segment from its nearest
// telling parent (parent ends with '/').
func bareRuntime(parent string) string {
	for end := len(parent) - 1; end > 0; {
		start := strings.LastIndexByte(parent[:end], '/') + 1
		switch seg := parent[start:end]; {
		case seg == "docker":
			return RuntimeDocker
		case seg == "libpod_parent":
			return RuntimePodman
		case seg == "kubepods" || strings.HasPrefix(seg, "kubepods-") || strings.HasPrefix(seg, "kubepods."):
			return RuntimeKubepods
		}
		end = start - 1
	}
	return ""
}

// idLen is the length of a container id: 32 bytes in hex (docker, OCI
// runtimes under CRI, podman).
const idLen = 64

func isID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
