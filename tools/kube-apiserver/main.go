// Command kube-apiserver is a real Kubernetes API server (k8s.io/kubernetes's own
// cmd/kube-apiserver/app) with a single-member etcd embedded in the same process, for the
// kserve-canary "kube-apiserver" sandbox backend and its tests.
//
// Usage:
//
//	kube-apiserver --etcd-data-dir=DIR [--etcd-progress-notify=2s] [--etcd-log-level=error] -- <kube-apiserver flags>
//
// etcd listens on 127.0.0.1 with kernel-chosen ports (no port races); its client URL is appended
// to the kube-apiserver flags as --etcd-servers. etcd runs with UnsafeNoFsync (test data only).
// The process exits when kube-apiserver exits (SIGTERM/SIGINT stop both).
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"
	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	own := flag.NewFlagSet("kube-apiserver (etcd)", flag.ContinueOnError)
	dataDir := own.String("etcd-data-dir", "", "directory for the embedded etcd's data (required)")
	progress := own.Duration("etcd-progress-notify", 2*time.Second, "etcd watch progress-notify interval")
	logLevel := own.String("etcd-log-level", "error", "embedded etcd log level")
	args := os.Args[1:]
	split := len(args)
	for i, a := range args {
		if a == "--" {
			split = i
			break
		}
	}
	if err := own.Parse(args[:split]); err != nil {
		os.Exit(2)
	}
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "kube-apiserver: --etcd-data-dir is required (then -- and the kube-apiserver flags)")
		os.Exit(2)
	}
	var apiArgs []string
	if split < len(args) {
		apiArgs = args[split+1:]
	}

	etcd, err := startEtcd(*dataDir, *progress, *logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-apiserver: embedded etcd did not start: %v\n", err)
		os.Exit(1)
	}
	clientURL := "http://" + etcd.Clients[0].Addr().String()
	fmt.Fprintf(os.Stderr, "embedded etcd serving on %s\n", clientURL)

	command := app.NewAPIServerCommand()
	command.SetArgs(append(apiArgs, "--etcd-servers="+clientURL))
	code := cli.Run(command)
	etcd.Close()
	os.Exit(code)
}

func startEtcd(dir string, progress time.Duration, logLevel string) (*embed.Etcd, error) {
	loopback := func() []url.URL { return []url.URL{{Scheme: "http", Host: "127.0.0.1:0"}} }
	cfg := embed.NewConfig()
	cfg.Name = "kserve-canary"
	cfg.Dir = dir
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = logLevel
	cfg.ListenClientUrls = loopback()
	cfg.AdvertiseClientUrls = loopback()
	cfg.ListenPeerUrls = loopback()
	cfg.AdvertisePeerUrls = loopback()
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.WatchProgressNotifyInterval = progress
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("not ready after 60s")
	case err := <-e.Err():
		e.Close()
		return nil, err
	}
}
