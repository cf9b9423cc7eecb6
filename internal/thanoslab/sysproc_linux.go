package thanoslab

import "syscall"

// sysProcAttr makes a component die with the process that started it, so that a test
// killed hard leaves no Prometheus or Thanos behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
