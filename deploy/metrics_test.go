// Package deploy holds the files operators install next to cdc (Grafana
// dashboard, Prometheus alert rules, systemd unit); this test keeps the
// metric names they use in step with the code.
package deploy

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

var (
	defined = regexp.MustCompile(`Name:\s*"(cdc_[a-z_]+)"`)
	used    = regexp.MustCompile(`cdc_[a-z_]+`)
)

// exported lists every cdc_ metric the code registers.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir("../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range defined.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, names)
	return names
}

// checkNames fails for every cdc_ name in src that the code does not
// export (histogram series count as their metric).
func checkNames(t *testing.T, file string, src []byte, names map[string]bool) {
	t.Helper()
	for _, n := range used.FindAllString(string(src), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
		require.True(t, names[n] || names[base], "%s uses %s, which cdc does not export", file, n)
	}
}

func TestAlertRulesUseRealMetricsAndCoverWhatMatters(t *testing.T) {
	src, err := os.ReadFile("prometheus/alerts.yml")
	require.NoError(t, err)
	checkNames(t, "alerts.yml", src, exported(t))
	var doc struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(src, &doc))
	exprs := map[string]string{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Expr, r.Alert)
			require.NotEmpty(t, r.Labels["severity"], r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			exprs[r.Alert] = r.Expr
		}
	}
	for alert, metric := range map[string]string{
		"CdcSlotLagHigh": "cdc_replication_lag_bytes", "CdcRetainedWALHigh": "cdc_replication_retained_wal_bytes",
		"CdcNotReady": "cdc_ready", "CdcDeliveryHalted": "cdc_delivery_halted",
		"CdcDeadLettersGrowing": "cdc_dead_letters_total", "CdcReconcileFoundDrift": "cdc_reconcile_drift_cents",
	} {
		require.Contains(t, exprs[alert], metric, "alert %s", alert)
	}
}

func TestDashboardIsValidAndUsesRealMetrics(t *testing.T) {
	src, err := os.ReadFile("grafana/cdc-dashboard.json")
	require.NoError(t, err)
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(src, &d))
	require.NotEmpty(t, d.Panels)
	for _, p := range d.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
	}
	checkNames(t, "cdc-dashboard.json", src, exported(t))
}
