// Command gopeer is a small HashiCorp memberlist node used by the interoperability tests of the
// Deno cache: it joins or seeds a cluster, prints one JSON line per membership event or received
// user message on stdout, and takes commands on stdin:
//
//	members                  print {"event":"members","members":[...]}
//	send-udp <node> <b64>    best-effort user message (UDP)
//	send-tcp <node> <b64>    reliable user message (TCP)
//	leave                    graceful leave (3 s), then {"event":"left"}
//	quit                     shutdown and exit 0
//
// Its node metadata is JSON ({"http_port": N}) like the Deno nodes'. memberlist's own log goes
// to stderr, so tests can look for protocol complaints ("conflicting address", version errors).
//
// memberlist 0.2.2 (Debian's) keeps a member's state in a field that shadows Node.State, so the
// Node values it hands out always say "alive": members lists only live (alive or suspect) nodes,
// and whether a leave event was a death or a graceful leave is told by memberlist's own
// "Marking <name> as failed" log line (tests read stderr for it).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]interface{}) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

func nodeJSON(n *memberlist.Node) map[string]interface{} {
	var meta interface{}
	if err := json.Unmarshal(n.Meta, &meta); err != nil {
		meta = string(n.Meta)
	}
	return map[string]interface{}{
		"name": n.Name, "addr": n.Addr.String(), "port": n.Port, "meta": meta,
		"addr_len": len(n.Addr),
	}
}

type delegate struct{ meta []byte }

func (d *delegate) NodeMeta(limit int) []byte { return d.meta }
func (d *delegate) NotifyMsg(b []byte) {
	emit(map[string]interface{}{"event": "message", "payload": base64.StdEncoding.EncodeToString(b)})
}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

type events struct{}

func (events) NotifyJoin(n *memberlist.Node) {
	emit(map[string]interface{}{"event": "join", "node": nodeJSON(n)})
}
func (events) NotifyLeave(n *memberlist.Node) {
	emit(map[string]interface{}{"event": "leave", "node": nodeJSON(n)})
}
func (events) NotifyUpdate(n *memberlist.Node) {
	emit(map[string]interface{}{"event": "update", "node": nodeJSON(n)})
}

func main() {
	name := flag.String("name", "go-peer", "node name")
	bind := flag.String("bind", "127.0.0.1", "bind address")
	port := flag.Int("port", 7946, "gossip port (UDP and TCP)")
	join := flag.String("join", "", "comma-separated host:port seeds")
	profile := flag.String("profile", "local", "local or lan")
	key := flag.String("key", "", "base64 secret key (16, 24 or 32 bytes)")
	httpPort := flag.Int("http-port", 0, "published in the node metadata")
	probeInterval := flag.Duration("probe-interval", 0, "override the profile's probe interval")
	probeTimeout := flag.Duration("probe-timeout", 0, "override the profile's probe timeout")
	pushPull := flag.Duration("push-pull-interval", 0, "override the profile's push/pull interval")
	flag.Parse()

	var conf *memberlist.Config
	switch *profile {
	case "local":
		conf = memberlist.DefaultLocalConfig()
	case "lan":
		conf = memberlist.DefaultLANConfig()
	default:
		fmt.Fprintf(os.Stderr, "invalid -profile %q: expected local or lan\n", *profile)
		os.Exit(2)
	}
	if *probeInterval > 0 {
		conf.ProbeInterval = *probeInterval
	}
	if *probeTimeout > 0 {
		conf.ProbeTimeout = *probeTimeout
	}
	if *pushPull > 0 {
		conf.PushPullInterval = *pushPull
	}
	conf.Name = *name
	conf.BindAddr = *bind
	conf.BindPort = *port
	conf.AdvertisePort = *port
	conf.LogOutput = os.Stderr
	meta, _ := json.Marshal(map[string]int{"http_port": *httpPort})
	conf.Delegate = &delegate{meta: meta}
	conf.Events = events{}
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err != nil {
			fmt.Fprintf(os.Stderr, "invalid -key: %v\n", err)
			os.Exit(2)
		}
		conf.SecretKey = k
	}

	list, err := memberlist.Create(conf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot create memberlist: %v\n", err)
		os.Exit(1)
	}
	ln := list.LocalNode()
	emit(map[string]interface{}{"event": "ready", "name": ln.Name, "port": ln.Port})
	if *join != "" {
		n, err := list.Join(strings.Split(*join, ","))
		result := map[string]interface{}{"event": "joined", "count": n}
		if err != nil {
			result["error"] = err.Error()
		}
		emit(result)
	}

	find := func(name string) *memberlist.Node {
		for _, m := range list.Members() {
			if m.Name == name {
				return m
			}
		}
		return nil
	}
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "members":
			var ms []map[string]interface{}
			for _, m := range list.Members() {
				ms = append(ms, nodeJSON(m))
			}
			emit(map[string]interface{}{"event": "members", "members": ms})
		case "send-udp", "send-tcp":
			if len(fields) != 3 {
				emit(map[string]interface{}{"event": "error", "error": "usage: send-udp|send-tcp <node> <base64>"})
				continue
			}
			payload, err := base64.StdEncoding.DecodeString(fields[2])
			node := find(fields[1])
			if err != nil || node == nil {
				emit(map[string]interface{}{"event": "error", "error": fmt.Sprintf("bad payload or unknown node %q", fields[1])})
				continue
			}
			if fields[0] == "send-udp" {
				err = list.SendBestEffort(node, payload)
			} else {
				err = list.SendReliable(node, payload)
			}
			result := map[string]interface{}{"event": "sent", "to": node.Name}
			if err != nil {
				result["error"] = err.Error()
			}
			emit(result)
		case "leave":
			err := list.Leave(3 * time.Second)
			result := map[string]interface{}{"event": "left"}
			if err != nil {
				result["error"] = err.Error()
			}
			emit(result)
		case "quit":
			_ = list.Shutdown()
			os.Exit(0)
		default:
			emit(map[string]interface{}{"event": "error", "error": "unknown command " + fields[0]})
		}
	}
	_ = list.Shutdown()
}
