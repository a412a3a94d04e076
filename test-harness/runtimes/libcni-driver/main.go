// libcni-driver: a tiny CNI runtime built on Debian's libcni (golang-github-appc-cni-dev 1.1.2),
// used by test-harness/runtimes/libcni.sh. Build (GOPATH mode, offline):
//   GO111MODULE=off GOPATH=$TMP:/usr/share/gocode go build -o driver .
//
// Usage:
//   driver -cmd add|check|del|validate|version -conf FILE.conflist -path DIR[:DIR] -cache DIR
//          [-id ID] [-netns PATH] [-ifname IF] [-args 'K=V;K=V'] [-caps '{"mac":"..","ips":[..]}']
//
// add prints the result JSON (in the conflist's cniVersion) on stdout; validate prints the
// list of capabilities the plugins declared; version prints the plugin's VERSION answer
// for the type given with -type. Errors go to stderr (prefixed "ERROR: "), exit 1.
// libcni 1.1.2 has no GCNetworkList / GetStatusNetworkList: GC and STATUS are not offered.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "ERROR: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	cmd := flag.String("cmd", "", "add|check|del|validate|version")
	conf := flag.String("conf", "", "conflist file")
	path := flag.String("path", "", "plugin dirs, ':'-separated")
	cache := flag.String("cache", "", "libcni cache dir")
	id := flag.String("id", "", "container ID")
	netns := flag.String("netns", "", "container netns path")
	ifname := flag.String("ifname", "eth0", "interface name")
	args := flag.String("args", "", "CNI_ARGS as K=V;K=V")
	caps := flag.String("caps", "", "capability args (runtimeConfig) as a JSON object")
	ptype := flag.String("type", "macvlan", "plugin type for -cmd version")
	timeout := flag.Duration("timeout", 60*time.Second, "overall timeout")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	cni := libcni.NewCNIConfigWithCacheDir(strings.Split(*path, ":"), *cache, nil)

	if *cmd == "version" {
		info, err := cni.GetVersionInfo(ctx, *ptype)
		if err != nil {
			fail("version: %v", err)
		}
		out, _ := json.Marshal(map[string]interface{}{"supportedVersions": info.SupportedVersions()})
		fmt.Println(string(out))
		return
	}

	list, err := libcni.ConfListFromFile(*conf)
	if err != nil {
		fail("load %s: %v", *conf, err)
	}

	rt := &libcni.RuntimeConf{ContainerID: *id, NetNS: *netns, IfName: *ifname}
	if *args != "" {
		for _, kv := range strings.Split(*args, ";") {
			p := strings.SplitN(kv, "=", 2)
			if len(p) != 2 {
				fail("bad -args pair %q", kv)
			}
			rt.Args = append(rt.Args, [2]string{p[0], p[1]})
		}
	}
	if *caps != "" {
		if err := json.Unmarshal([]byte(*caps), &rt.CapabilityArgs); err != nil {
			fail("bad -caps: %v", err)
		}
	}

	switch *cmd {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail("add: %v", err)
		}
		if err := res.Print(); err != nil {
			fail("print: %v", err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail("check: %v", err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail("del: %v", err)
		}
	case "cached":
		res, err := cni.GetNetworkListCachedResult(list, rt)
		if err != nil {
			fail("cached: %v", err)
		}
		if res == nil {
			fmt.Println("null")
			return
		}
		if err := res.Print(); err != nil {
			fail("print: %v", err)
		}
	case "validate":
		c, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			fail("validate: %v", err)
		}
		out, _ := json.Marshal(c)
		fmt.Println(string(out))
	default:
		fail("unknown -cmd %q", *cmd)
	}
}
