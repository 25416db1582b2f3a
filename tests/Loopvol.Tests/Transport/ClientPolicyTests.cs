using System.Diagnostics;
using Grpc.Core;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Polly.Timeout;
using ControllerClient = Loopvol.Csi.V1.Controller.ControllerClient;

namespace Loopvol.Tests.Transport;

/// <summary>
/// <see cref="CsiClientPolicy"/>: which answers are repeated, how the backoff grows, where it stops, and the undo of a
/// cut-off create against the real driver. The scripted answers come from a fake call invoker under the generated
/// Identity client: the client's policy is what is tested, not a server.
/// </summary>
public sealed class ClientPolicyTests
{
    private static CsiClientPolicy Fast(List<(int Attempt, StatusCode Code, TimeSpan Delay)>? retries = null, int attempts = 10) => new()
    {
        MaxAttempts = attempts,
        FirstDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(20),
        OnRetry = (attempt, code, delay) => retries?.Add((attempt, code, delay)),
    };

    [Test]
    public async Task AnsweredAbortedTwiceThenOk_IsRetriedAndSucceeds()
    {
        var invoker = new ScriptedInvoker(StatusCode.Aborted, StatusCode.Aborted, StatusCode.OK);
        var retries = new List<(int, StatusCode, TimeSpan)>();

        var response = await Fast(retries).CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync);

        Assert.That(response.Ready, Is.True);
        Assert.That(invoker.Calls, Is.EqualTo(3));
        Assert.That(retries.Select(r => r.Item2), Is.EqualTo(new[] { StatusCode.Aborted, StatusCode.Aborted }));
    }

    [TestCase(StatusCode.Unavailable)]
    [TestCase(StatusCode.DeadlineExceeded)]
    public async Task OtherTransientAnswers_AreRetried(StatusCode code)
    {
        var invoker = new ScriptedInvoker(code, StatusCode.OK);

        await Fast().CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync);

        Assert.That(invoker.Calls, Is.EqualTo(2));
    }

    [TestCase(StatusCode.InvalidArgument)]
    [TestCase(StatusCode.NotFound)]
    [TestCase(StatusCode.AlreadyExists)]
    [TestCase(StatusCode.ResourceExhausted)]
    [TestCase(StatusCode.FailedPrecondition)]
    [TestCase(StatusCode.Internal)]
    public void DefiniteAnswer_IsNotRetried(StatusCode code)
    {
        var invoker = new ScriptedInvoker(code, StatusCode.OK);

        var error = Assert.ThrowsAsync<RpcException>(() =>
            Fast().CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync));

        Assert.That(error!.StatusCode, Is.EqualTo(code));
        Assert.That(invoker.Calls, Is.EqualTo(1));
    }

    [Test]
    public async Task Backoff_GrowsWithEachRetry_UpToTheCap()
    {
        var retries = new List<(int Attempt, StatusCode Code, TimeSpan Delay)>();
        var policy = new CsiClientPolicy
        {
            FirstDelay = TimeSpan.FromMilliseconds(2),
            MaxDelay = TimeSpan.FromMilliseconds(100),
            Randomizer = () => 0.5, // The jitter's middle, so that the delays are reproducible.
            OnRetry = (attempt, code, delay) => retries.Add((attempt, code, delay)),
        };
        var invoker = new ScriptedInvoker([.. Enumerable.Repeat(StatusCode.Unavailable, 9), StatusCode.OK]);

        await policy.CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync);

        var delays = retries.Select(r => r.Delay.TotalMilliseconds).ToList();
        Assert.That(delays, Has.Count.EqualTo(9));
        Assert.That(delays, Has.All.Positive);
        Assert.That(delays, Has.All.LessThanOrEqualTo(100.0), "capped");
        var growing = delays.TakeWhile(d => d < 100).ToList();
        Assert.That(growing, Has.Count.GreaterThanOrEqualTo(4), "several retries before the cap");
        Assert.That(growing, Is.Ordered.Ascending.And.Unique, "each backoff is longer than the last");
        Assert.That(growing[^1], Is.GreaterThan(growing[0] * 8), "exponential, not linear");
    }

    [Test]
    public async Task Backoff_WithJitter_StaysWithinTheCap()
    {
        var retries = new List<(int Attempt, StatusCode Code, TimeSpan Delay)>();
        var invoker = new ScriptedInvoker([.. Enumerable.Repeat(StatusCode.Aborted, 9), StatusCode.OK]);

        await Fast(retries).CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync);

        var delays = retries.Select(r => r.Delay.TotalMilliseconds).ToList();
        Assert.That(delays, Has.All.Positive);
        Assert.That(delays, Has.All.LessThanOrEqualTo(20.0), "capped");
        Assert.That(retries.Select(r => r.Attempt), Is.EqualTo(Enumerable.Range(0, 9)));
    }

    [Test]
    public void MaxAttempts_BoundsTheRepeats_AndTheLastAnswerIsThrown()
    {
        var invoker = new ScriptedInvoker([.. Enumerable.Repeat(StatusCode.Aborted, 10)]);

        var error = Assert.ThrowsAsync<RpcException>(() =>
            Fast(attempts: 3).CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Aborted));
        Assert.That(invoker.Calls, Is.EqualTo(3));
    }

    [Test]
    public void TotalTime_BoundsTheRepeats()
    {
        var invoker = new ScriptedInvoker([.. Enumerable.Repeat(StatusCode.Unavailable, 1000)]);
        var policy = new CsiClientPolicy
        {
            MaxAttempts = 1000,
            FirstDelay = TimeSpan.FromMilliseconds(20),
            MaxDelay = TimeSpan.FromMilliseconds(50),
            TotalTime = TimeSpan.FromMilliseconds(300),
        };
        var clock = Stopwatch.StartNew();

        Assert.ThrowsAsync<TimeoutRejectedException>(() =>
            policy.CallAsync(o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(invoker.Calls, Is.InRange(2, 100), "repeated, then stopped by the total time");
    }

    [Test]
    public void CallerCancellation_StopsTheRepeats_AsCancellation()
    {
        var invoker = new ScriptedInvoker([.. Enumerable.Repeat(StatusCode.Unavailable, 1000)]);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        Assert.CatchAsync<OperationCanceledException>(() => Fast(attempts: 1000).CallAsync(
            o => new Identity.IdentityClient(invoker).ProbeAsync(new ProbeRequest(), o).ResponseAsync, cancel.Token));
    }

    [Test]
    public async Task CutOffCreate_OnTheRealDriver_IsRepeatedByNameWhileBusy_ThenDeleted()
    {
        using var dir = new TempDirectory();
        var gate = new Gate("create-volume.reserved");
        await using var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = dir.Combine("data"), Faults = gate });
        using var channel = CsiChannel.Create(driver.Settings.Endpoint);
        var controller = new ControllerClient(channel);
        var request = new CreateVolumeRequest
        {
            Name = "pvc-cut-off",
            CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        };
        using var interrupt = new CancellationTokenSource();
        var first = controller.CreateVolumeAsync(request, cancellationToken: interrupt.Token).ResponseAsync;
        Assert.That(await gate.WaitEnteredAsync(TimeSpan.FromSeconds(10)), Is.True, "the create's handler runs, holding the name");
        await interrupt.CancelAsync(); // Ctrl-C: the call is cut off, its handler is not.
        var cutOff = Assert.ThrowsAsync<RpcException>(() => first);
        Assert.That(cutOff!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        Assert.That(CsiClientPolicy.MayHaveMade(cutOff.StatusCode), Is.True);
        var retries = new List<StatusCode>();
        var policy = new CsiClientPolicy
        {
            FirstDelay = TimeSpan.FromMilliseconds(5),
            MaxDelay = TimeSpan.FromMilliseconds(50),
            OnRetry = (_, code, _) =>
            {
                retries.Add(code);
                if (retries.Count == 2)
                {
                    gate.Open(); // The cut-off create finishes after two busy answers.
                }
            },
        };
        var repeats = 0;
        var deleted = new List<string>();

        var id = await policy.UndoCutOffCreateAsync(
            async o =>
            {
                repeats++;
                return (await controller.CreateVolumeAsync(request, o)).Volume.VolumeId;
            },
            async (volume, o) =>
            {
                deleted.Add(volume);
                await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume }, o);
            });

        Assert.That(retries, Has.Count.GreaterThanOrEqualTo(2).And.All.EqualTo(StatusCode.Aborted),
            "busy while the cut-off create ran");
        Assert.That(repeats, Is.EqualTo(retries.Count + 1), "repeated until the name was free, then answered");
        Assert.That(id, Is.Not.Null);
        Assert.That(deleted, Is.EqualTo(new[] { id }));
        await driver.Driver.Pool.DrainDeletesAsync(); // A delete's record goes just after its answer.
        Assert.That(driver.Driver.Journal.All(), Is.Empty, "the volume the cut-off create made is deleted");
        Assert.That(Directory.EnumerateFiles(driver.Settings.PoolDirectory, "*.img"), Is.Empty);
    }

    [Test]
    public async Task UndoOfACreateRefusedOnRepeat_DeletesNothing()
    {
        await using var driver = await InProcessDriver.StartAsync();
        using var channel = CsiChannel.Create(driver.Settings.Endpoint);
        var controller = new ControllerClient(channel);
        var calls = 0;
        var deletes = 0;

        var id = await Fast().UndoCutOffCreateAsync(
            async o =>
            {
                calls++;
                return (await controller.CreateVolumeAsync(new CreateVolumeRequest { Name = "no-capabilities" }, o)).Volume.VolumeId;
            },
            (_, _) =>
            {
                deletes++;
                return Task.CompletedTask;
            });

        Assert.That(id, Is.Null, "INVALID_ARGUMENT: nothing by that name was made");
        Assert.That((calls, deletes), Is.EqualTo((1, 0)));
    }

    /// <summary>Answers each Probe with the next status of a script (OK: ready).</summary>
    private sealed class ScriptedInvoker(params StatusCode[] answers) : CallInvoker
    {
        private int _calls;

        public int Calls => _calls;

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
            string? host, CallOptions options, TRequest request)
        {
            var code = answers[Math.Min(Interlocked.Increment(ref _calls), answers.Length) - 1];
            var response = code == StatusCode.OK
                ? Task.FromResult((TResponse)(object)new ProbeResponse { Ready = true })
                : Task.FromException<TResponse>(new RpcException(new Status(code, $"scripted {code}")));
            return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => new Status(code, ""),
                () => [], () => { });
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
            CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }
}
