// Package alerts generates multiwindow multi-burn-rate alerting rules from SLOs and
// predicts, from the SRE Workbook's maths, when each tier fires and resets.
package alerts
