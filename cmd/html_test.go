package cmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless browser, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium to render the HTML report (apt-get install chromium)")
	return ""
}

// runChromium renders file:// path headless, with every network fetch
// sent to a closed port: a self-contained page needs none.
func runChromium(t *testing.T, browser, path string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args = append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"}, args...)
	cmd := exec.CommandContext(ctx, browser, append(args, "file://"+path)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", browser, err)
	}
	return out
}

// TestHTMLReportRenders writes the mixed scenario's HTML report, renders
// it in headless Chromium, and checks the page as the browser built it:
// the chart has its bars, every listed failure its ladder diagram.
func TestHTMLReportRenders(t *testing.T) {
	client, server := mixedCapture(t)
	browser := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if code, _, stderr := runMain("analyze", "--rows", "15", "--html", page, "--client", client, "--server", server); code != ExitFailed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(src)
	// Self-contained: nothing to fetch, nothing to run.
	for _, bad := range []string{"<script", "<link", " src=", "url(", "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if urls := regexp.MustCompile(`https?://[^"]*`).FindAllString(html, -1); len(urls) != 1 || urls[0] != "http://www.w3.org/2000/svg" {
		t.Errorf("links beyond the SVG namespace: %v", urls)
	}

	dom := string(runChromium(t, browser, page, "--dump-dom"))
	bars := strings.Count(dom, `<rect class="bar `)
	if bars < 6 { // six verdicts at 04:24:30 alone
		t.Errorf("the timeline chart has %d bars", bars)
	}
	links := strings.Count(dom, `<a href="#a`)
	sections := regexp.MustCompile(`(?s)<section class="attempt" id="a\d+">.*?</section>`).FindAllString(dom, -1)
	if links == 0 || len(sections) != links {
		t.Errorf("%d failures listed, %d detailed", links, len(sections))
	}
	for _, s := range sections {
		ladder := regexp.MustCompile(`(?s)<pre class="ladder">(.*?)</pre>`).FindStringSubmatch(s)
		if ladder == nil || !strings.Contains(ladder[1], "SYN") || !strings.Contains(ladder[1], "│") {
			t.Errorf("a failure without its ladder diagram: %.300s", s)
		}
		if !strings.Contains(s, `<code class="filter">ip.addr==`) || !strings.Contains(s, "Community ID: <code>1:") {
			t.Errorf("a failure without its Wireshark filter or Community ID: %.300s", s)
		}
	}
	for _, want := range []string{"By server, worst first", "What was read", "Worst burst"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	runChromium(t, browser, page, "--screenshot="+shot, "--window-size=1200,2000", "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 20000 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot: %d bytes, %v", len(png), err)
	}
	if dst := os.Getenv("SYNPATH_HTML_SHOT"); dst != "" {
		os.WriteFile(dst, png, 0o644) // to look at it
	}
}
