//go:build !linux

package backend

import "errors"

var errNetnsLinux = errors.New("--netns needs Linux")

// Do runs fn; a namespace is an error off Linux.
func (n Netns) Do(fn func() error) error {
	if n.Set() {
		return errNetnsLinux
	}
	return fn()
}

// Check fails off Linux when a namespace is named.
func (n Netns) Check() error {
	if n.Set() {
		return errNetnsLinux
	}
	return nil
}

func (n Netns) id() (nsID, error) { return nsID{}, errNetnsLinux }
