//go:build !linux

package thanoslab

import "syscall"

// sysProcAttr: without Linux's parent-death signal, components are stopped by Close only.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
