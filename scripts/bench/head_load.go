// head_load: HEAD requests over keep-alive connections for the pinned HTTP benchmark
// (scripts/bench/http_bench.ts). wrk cannot measure HEAD against a server that declares the
// length of the body a GET would carry, as RFC 9110 asks and as the node does: its parser does
// not know the request was a HEAD and waits for that body. This reads each answer up to the end
// of its headers, which is all a HEAD answer has, and prints wrk's summary lines (requests, rate,
// latency percentiles, non-2xx/3xx answers), so the same parser reads both.
//
// Usage: go run head_load.go -addr 127.0.0.1:8000 -path /cache/k -c 50 -d 5s
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "server host:port")
	path := flag.String("path", "/", "request path")
	conns := flag.Int("c", 50, "connections")
	duration := flag.Duration("d", 5*time.Second, "duration")
	flag.Parse()
	request := []byte("HEAD " + *path + " HTTP/1.1\r\nHost: " + *addr + "\r\n\r\n")
	deadline := time.Now().Add(*duration)
	latencies := make([][]time.Duration, *conns)
	bad := make([]int, *conns)
	failures := make([]error, *conns)
	var wg sync.WaitGroup
	started := time.Now()
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", *addr)
			if err != nil {
				failures[i] = err
				return
			}
			defer conn.Close()
			reader := bufio.NewReaderSize(conn, 4096)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if _, err := conn.Write(request); err != nil {
					failures[i] = err
					return
				}
				status, err := reader.ReadString('\n')
				if err != nil {
					failures[i] = err
					return
				}
				if !strings.HasPrefix(status, "HTTP/1.1 2") && !strings.HasPrefix(status, "HTTP/1.1 3") {
					bad[i]++
				}
				for {
					line, err := reader.ReadString('\n')
					if err != nil {
						failures[i] = err
						return
					}
					if line == "\r\n" {
						break
					}
				}
				latencies[i] = append(latencies[i], time.Since(t0))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(started)
	var all []time.Duration
	nonOk := 0
	for i := range latencies {
		if failures[i] != nil {
			fmt.Fprintf(os.Stderr, "connection %d: %v\n", i, failures[i])
			os.Exit(1)
		}
		all = append(all, latencies[i]...)
		nonOk += bad[i]
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	at := func(q float64) string {
		if len(all) == 0 {
			return "0.00ms"
		}
		return fmt.Sprintf("%.2fms", float64(all[int(q*float64(len(all)-1))].Microseconds())/1000)
	}
	fmt.Printf("  Latency Distribution\n     50%%    %s\n     99%%    %s\n", at(0.50), at(0.99))
	fmt.Printf("  %d requests in %.2fs\n", len(all), elapsed.Seconds())
	if nonOk > 0 {
		fmt.Printf("  Non-2xx or 3xx responses: %d\n", nonOk)
	}
	fmt.Printf("Requests/sec: %.2f\n", float64(len(all))/elapsed.Seconds())
}
