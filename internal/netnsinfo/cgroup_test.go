package netnsinfo

import (
	"strings"
	"testing"
)

const (
	idA = "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
	idB = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
	// A pod uid as the systemd driver escapes it, and as cgroupfs keeps it.
	podSystemd  = "pod2c48913c_3b85_4f1a_9e08_2e47a7bbd6a1"
	podCgroupfs = "pod2c48913c-3b85-4f1a-9e08-2e47a7bbd6a1"
)

// v1 repeats the path on every controller line, the way a cgroup v1 host
// writes /proc/PID/cgroup.
func v1(path string) string {
	ctrls := []string{"12:pids", "11:hugetlb", "10:net_prio,net_cls", "9:perf_event", "8:blkio", "7:freezer",
		"6:devices", "5:memory", "4:cpuset", "3:cpu,cpuacct", "2:rdma", "1:name=systemd"}
	var b strings.Builder
	for _, c := range ctrls {
		b.WriteString(c + ":" + path + "\n")
	}
	return b.String()
}

func TestContainerIDFromCgroup(t *testing.T) {
	tests := []struct {
		name    string
		content string
		id      string
		runtime string
	}{
		// docker
		{"docker cgroupfs v1", v1("/docker/" + idA), idA, RuntimeDocker},
		{"docker systemd v1", v1("/system.slice/docker-" + idA + ".scope"), idA, RuntimeDocker},
		{"docker systemd v2", "0::/system.slice/docker-" + idA + ".scope\n", idA, RuntimeDocker},
		{"docker cgroupfs v2", "0::/docker/" + idA + "\n", idA, RuntimeDocker},
		{"docker hybrid: v1 lines root, v2 line names it",
			"4:memory:/\n2:cpu,cpuacct:/\n1:name=systemd:/\n0::/system.slice/docker-" + idA + ".scope\n", idA, RuntimeDocker},
		{"docker hybrid: v2 line root, v1 lines name it",
			v1("/docker/"+idA) + "0::/\n", idA, RuntimeDocker},
		{"docker rootless", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + idA + ".scope\n", idA, RuntimeDocker},
		{"docker in docker: innermost wins", "0::/system.slice/docker-" + idA + ".scope/docker/" + idB + "\n", idB, RuntimeDocker},
		{"no trailing newline", "0::/docker/" + idA, idA, RuntimeDocker},
		{"CRLF", "0::/docker/" + idA + "\r\n", idA, RuntimeDocker},
		// containerd
		{"containerd CRI systemd v2",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" + podSystemd + ".slice/cri-containerd-" + idA + ".scope\n",
			idA, RuntimeContainerd},
		{"containerd CRI systemd v1",
			v1("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" + podSystemd + ".slice/cri-containerd-" + idA + ".scope"),
			idA, RuntimeContainerd},
		{"containerd in kind: the pod's container, not the node's",
			"0::/system.slice/docker-" + idB + ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-" +
				podSystemd + ".slice/cri-containerd-" + idA + ".scope\n",
			idA, RuntimeContainerd},
		{"nerdctl", "0::/system.slice/nerdctl-" + idA + ".scope\n", idA, RuntimeContainerd},
		// cri-o
		{"cri-o systemd v2", "0::/kubepods.slice/kubepods-" + podSystemd + ".slice/crio-" + idA + ".scope\n", idA, RuntimeCRIO},
		{"cri-o systemd v1", v1("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" + podSystemd + ".slice/crio-" + idA + ".scope"), idA, RuntimeCRIO},
		{"cri-o cgroupfs", "0::/kubepods/besteffort/" + podCgroupfs + "/crio-" + idA + "\n", idA, RuntimeCRIO},
		{"cri-o container subcgroup", "0::/kubepods.slice/kubepods-" + podSystemd + ".slice/crio-" + idA + ".scope/container\n", idA, RuntimeCRIO},
		// podman
		{"podman rootful", "0::/machine.slice/libpod-" + idA + ".scope\n", idA, RuntimePodman},
		{"podman rootful v1", v1("/machine.slice/libpod-" + idA + ".scope"), idA, RuntimePodman},
		{"podman rootless, container subcgroup",
			"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + idA + ".scope/container\n", idA, RuntimePodman},
		{"podman cgroupfs", "0::/libpod_parent/libpod-" + idA + "\n", idA, RuntimePodman},
		{"podman cgroupfs bare", "0::/libpod_parent/" + idA + "\n", idA, RuntimePodman},
		// kubepods, cgroupfs driver: the engine is not named
		{"kubepods burstable v1", v1("/kubepods/burstable/" + podCgroupfs + "/" + idA), idA, RuntimeKubepods},
		{"kubepods besteffort v2", "0::/kubepods/besteffort/" + podCgroupfs + "/" + idA + "\n", idA, RuntimeKubepods},
		{"kubepods guaranteed v2", "0::/kubepods/" + podCgroupfs + "/" + idA + "\n", idA, RuntimeKubepods},
		{"kubepods systemd, docker engine",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" + podSystemd + ".slice/docker-" + idA + ".scope\n", idA, RuntimeDocker},
		// a bare id under an unknown parent is still a container
		{"bare id, unknown parent", "0::/ecs/0123456789abcdef/" + idA + "\n", idA, ""},

		// not containers
		{"empty", "", "", ""},
		{"root v2", "0::/\n", "", ""},
		{"root v1", v1("/"), "", ""},
		{"init", "0::/init.scope\n", "", ""},
		{"system service", "0::/system.slice/sshd.service\n", "", ""},
		{"docker daemon", "0::/system.slice/docker.service\n", "", ""},
		{"containerd daemon", v1("/system.slice/containerd.service"), "", ""},
		{"user session", "0::/user.slice/user-1000.slice/session-3.scope\n", "", ""},
		{"user service", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service\n", "", ""},
		{"cri-o conmon", "0::/kubepods.slice/kubepods-" + podSystemd + ".slice/crio-conmon-" + idA + ".scope\n", "", ""},
		{"cri-o conmon v1", v1("/kubepods.slice/kubepods-" + podSystemd + ".slice/crio-conmon-" + idA + ".scope"), "", ""},
		{"podman conmon", "0::/machine.slice/libpod-conmon-" + idA + ".scope\n", "", ""},
		{"podman conmon rootless", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" + idA + ".scope\n", "", ""},
		{"pod slice without container", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" + podSystemd + ".slice\n", "", ""},
		{"32 hex digits", "4:memory:/process_api/03111347d8f43512174c1e92c655b770\n0::/\n", "", ""},
		{"63 hex digits", "0::/docker/" + idA[1:] + "\n", "", ""},
		{"65 hex digits", "0::/docker/" + idA + "0\n", "", ""},
		{"upper-case hex", "0::/docker/" + strings.ToUpper(idA) + "\n", "", ""},
		{"unknown prefix", "0::/system.slice/runc-" + idA + ".scope\n", "", ""},
		{"other unit type", "0::/system.slice/docker-" + idA + ".mount\n", "", ""},
		{"prefix only", "0::/system.slice/docker-.scope\n", "", ""},
		{"no hierarchy id", "::/docker/" + idA + "\n", "", ""},
		{"hierarchy id not a number", "x::/docker/" + idA + "\n", "", ""},
		{"one field", "/docker/" + idA + "\n", "", ""},
		{"two fields", "0:/docker/" + idA + "\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, runtime, ok := ContainerIDFromCgroup(tt.content)
			if id != tt.id || runtime != tt.runtime || ok != (tt.id != "") {
				t.Errorf("ContainerIDFromCgroup(%q) = %q, %q, %v; want %q, %q, %v",
					tt.content, id, runtime, ok, tt.id, tt.runtime, tt.id != "")
			}
		})
	}
}

// FuzzContainerIDFromCgroup: no panic, and an id is only ever 64 hex digits
// that the input holds, with a runtime from the documented set.
func FuzzContainerIDFromCgroup(f *testing.F) {
	for _, s := range []string{
		"",
		"0::/\n",
		v1("/docker/" + idA),
		"0::/system.slice/docker-" + idA + ".scope\n",
		"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" + podSystemd + ".slice/cri-containerd-" + idA + ".scope\n",
		"0::/kubepods.slice/kubepods-" + podSystemd + ".slice/crio-conmon-" + idA + ".scope\n",
		"0::/machine.slice/libpod-" + idA + ".scope/container\n",
		"0::/kubepods/besteffort/" + podCgroupfs + "/" + idA + "\n",
		"4:memory:/process_api/03111347d8f43512174c1e92c655b770\n0::/\n",
		"0::/system.slice/docker-" + idA + ".scope/docker/" + idB + "\n",
		"1:a:b:c:/docker-/" + idA + "-\r\n::\n",
	} {
		f.Add(s)
	}
	runtimes := map[string]bool{"": true, RuntimeDocker: true, RuntimeContainerd: true, RuntimeCRIO: true, RuntimePodman: true, RuntimeKubepods: true}
	f.Fuzz(func(t *testing.T, content string) {
		id, runtime, ok := ContainerIDFromCgroup(content)
		if !ok {
			if id != "" || runtime != "" {
				t.Fatalf("not ok but id %q runtime %q", id, runtime)
			}
			return
		}
		if !isID(id) || !strings.Contains(content, id) {
			t.Fatalf("id %q is not 64 hex digits of the input", id)
		}
		if !runtimes[runtime] {
			t.Fatalf("runtime %q not documented", runtime)
		}
	})
}
