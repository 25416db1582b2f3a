namespace Loopvol.Tests.Deploy;

/// <summary>The checkers the dashboard and alert tests stand on: they must find what they are meant to refuse.</summary>
public sealed class PromQlTests
{
    private static IEnumerable<TestCaseData> Expressions()
    {
        yield return new TestCaseData("sum by (method) (rate(loopvol_csi_call_duration_seconds_count{instance=~\"$instance\"}[$__rate_interval]))",
            new[] { "loopvol_csi_call_duration_seconds_count" }).SetName("MetricNames_SkipFunctionsGroupingMatchersAndVariables");
        yield return new TestCaseData("histogram_quantile(0.99, sum(rate(a_bucket{le!=\"+Inf\", x=\"y{z}\"}[5m])) by (le)) > 0.5",
            new[] { "a_bucket" }).SetName("MetricNames_SkipTrailingGroupingAndNumbers");
        yield return new TestCaseData("up == 0 or vector(0)", new[] { "up" }).SetName("MetricNames_FindMetricsOfNoPrefix");
        yield return new TestCaseData("a / on (instance) group_left (kind) b offset 5m unless c @ end()", new[] { "a", "b", "c" })
            .SetName("MetricNames_FindEveryOperand");
        yield return new TestCaseData("loopvol_pool_size_bytes{instance=~\"$instance\"} * ${ratio}", new[] { "loopvol_pool_size_bytes" })
            .SetName("MetricNames_SkipBracedVariables");
    }

    [TestCaseSource(nameof(Expressions))]
    public void MetricNames(string expr, string[] expected) => Assert.That(PromQl.MetricNames(expr), Is.EquivalentTo(expected));

    [TestCase("label_values(loopvol_pool_size_bytes, instance)", "loopvol_pool_size_bytes")]
    [TestCase("label_values(instance)", "")]
    [TestCase("query_result(topk(3, loopvol_pool_used_bytes))", "topk(3, loopvol_pool_used_bytes)")]
    [TestCase("loopvol_pool_images", "loopvol_pool_images")]
    public void OfVariableQuery_IsThePromQlItRuns(string query, string expr) => Assert.That(PromQl.OfVariableQuery(query), Is.EqualTo(expr));

    [TestCase("loopvol_pool_size_bytes", true)]
    [TestCase("loopvol_fsyncs_total", true)]
    [TestCase("loopvol_csi_call_duration_seconds_bucket", true)]
    [TestCase("loopvol_journal_commit_batch_size_count", true)]
    [TestCase("loopvol_csi_call_duration_seconds", false)]
    [TestCase("loopvol_pool_size_bytes_bucket", false)]
    [TestCase("loopvol_fsyncs", false)]
    [TestCase("up", false)]
    public void DocNames_OnlyTheTablesSeries(string series, bool named) => Assert.That(MetricsDoc.Load().Names(series), Is.EqualTo(named));

    [Test]
    public void Doc_IsReadRowByRow()
    {
        var doc = MetricsDoc.Parse("""
            # Metrics
            ## Every metric
            | metric | type | labels | meaning |
            |---|---|---|---|
            | `a_seconds` | histogram | `method` | A. |
            | `b_total` | counter | | B. |
            ## Alerts worth setting
            | alert | expression | why |
            |---|---|---|
            | A | `rate(b_total{x!~"1\|2"}[5m]) > 0` for 10m | Why. |
            | B | `a_seconds_count > 0` | Why. |
            """);

        Assert.That(doc.Types, Is.EquivalentTo(new Dictionary<string, string> { ["a_seconds"] = "histogram", ["b_total"] = "counter" }));
        Assert.That(doc.Alerts, Is.EqualTo(new[]
        {
            new DocumentedAlert("A", "rate(b_total{x!~\"1|2\"}[5m]) > 0", "10m"), new DocumentedAlert("B", "a_seconds_count > 0", null),
        }));
    }
}
