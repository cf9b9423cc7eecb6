package local_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/slokit/slokit/chaos/local"
)

// An HTTP fault proxy in front of a service, as the demo uses it: load goes to the
// proxy's URL, Inject turns the fault on, Remove turns it off, the proxy keeps serving.
func ExampleHTTPProxy() {
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer service.Close()

	proxy, err := local.NewHTTPProxy(local.HTTPProxyConfig{
		Listen: "127.0.0.1:0",
		Target: service.URL,
		Fault: &local.HTTPFault{
			Abort: &local.HTTPAbort{Percent: 100, Status: http.StatusServiceUnavailable},
			Match: local.HTTPMatch{Routes: []string{"GET /{code}"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := proxy.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer proxy.Close()

	status := func(method, path string) int {
		req, _ := http.NewRequest(method, proxy.URL()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("before:", status("GET", "/abc"))
	_ = proxy.Inject(ctx)
	fmt.Println("injected:", status("GET", "/abc"), "(other routes:", status("POST", "/api/v1/links"), ")")
	_ = proxy.Remove(ctx)
	fmt.Println("removed:", status("GET", "/abc"))
	// Output:
	// before: 200
	// injected: 503 (other routes: 200 )
	// removed: 200
}
