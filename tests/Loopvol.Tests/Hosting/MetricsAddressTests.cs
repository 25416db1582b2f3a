using System.Net;
using Loopvol.Hosting;

namespace Loopvol.Tests.Hosting;

public sealed class MetricsAddressTests
{
    private static readonly object?[][] Valid =
    [
        [":9808", null, false, 9808],
        ["0.0.0.0:9808", "0.0.0.0", false, 9808],
        ["127.0.0.1:0", "127.0.0.1", false, 0],
        ["[::1]:9808", "::1", false, 9808],
        ["[::]:65535", "::", false, 65535],
        ["localhost:9808", null, true, 9808],
    ];

    [TestCaseSource(nameof(Valid))]
    public void Valid_ParsesToTheAddressAndPort_AndPrintsBackTheSame(string text, string? ip, bool localhost, int port)
    {
        var address = MetricsAddress.Parse(text);

        Assert.That(address.Address, Is.EqualTo(ip is null ? null : IPAddress.Parse(ip)));
        Assert.That(address.IsLocalhost, Is.EqualTo(localhost));
        Assert.That(address.Port, Is.EqualTo(port));
        Assert.That(address.ToString(), Is.EqualTo(text));
    }

    [TestCase("")]
    [TestCase("9808")]
    [TestCase(":")]
    [TestCase(":65536")]
    [TestCase(":-1")]
    [TestCase("127.0.0.1")]
    [TestCase("metrics.example.org:9808")]
    [TestCase("::1:9808")]
    [TestCase("[127.0.0.1]:9808")]
    [TestCase("127.0.0.1:80a")]
    [TestCase("1:9808")]
    public void Invalid_IsRefused(string text)
    {
        Assert.That(MetricsAddress.TryParse(text, out var address), Is.False);
        Assert.That(address, Is.Null);
        Assert.That(() => MetricsAddress.Parse(text), Throws.TypeOf<FormatException>());
    }
}
