using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Loopvol.Cluster.Discovery.Internal;

/// <summary>One change a pod watch reports: <c>ADDED</c>, <c>MODIFIED</c>, <c>DELETED</c> or <c>BOOKMARK</c>, and the pod.</summary>
internal sealed record PodEvent(string Type, V1Pod Pod);

/// <summary>The resource version asked for is older than the API server keeps (HTTP 410 Gone, reason Expired): list again.</summary>
internal sealed class ResourceVersionGoneException(string message) : Exception(message);

/// <summary>
/// The two pod calls discovery makes, on KubernetesClient (its AOT build): a list, and a watch read as the
/// newline-delimited JSON events the API server streams. The AOT build leaves out the client's <c>Watcher</c>, so the
/// watch goes through the client's own request path (credentials, TLS, errors) and is read here.
/// </summary>
internal sealed class PodsApi(KubernetesClientConfiguration config) : Kubernetes(config)
{
    private static readonly Dictionary<string, IReadOnlyList<string>> NoHeaders = [];

    /// <summary>The pods of <paramref name="ns"/> that <paramref name="selector"/> selects, and the list's resource version.</summary>
    public async Task<V1PodList> ListAsync(string ns, string selector, CancellationToken cancellationToken) =>
        await CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: cancellationToken)
            .ConfigureAwait(false);

    /// <summary>
    /// Opens a watch of the changes after <paramref name="version"/>, which the server ends after about
    /// <paramref name="timeout"/>; read it with <see cref="EventsAsync"/>. A version the server no longer has is
    /// <see cref="ResourceVersionGoneException"/>; any other refusal is the client's <see cref="HttpOperationException"/>.
    /// </summary>
    public Task<HttpResponseMessage> WatchAsync(string ns, string selector, string version, TimeSpan timeout,
        CancellationToken cancellationToken) =>
        OpenAsync($"api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods?labelSelector={Uri.EscapeDataString(selector)}" +
                  $"&watch=true&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(version)}" +
                  $"&timeoutSeconds={(int)timeout.TotalSeconds}", cancellationToken);

    /// <summary>
    /// The events of an open watch, until the server ends it. An <c>ERROR</c> event of 410 Gone is
    /// <see cref="ResourceVersionGoneException"/>; any other is a <see cref="KubernetesException"/> with its status.
    /// </summary>
    public static async IAsyncEnumerable<PodEvent> EventsAsync(HttpResponseMessage watch,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(watch);
        var stream = await watch.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.Length > 0)
                {
                    yield return Parse(line);
                }
            }
        }
    }

    private async Task<HttpResponseMessage> OpenAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            return await SendRequest<object?>(url, HttpMethod.Get, NoHeaders, null, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Gone)
        {
            throw new ResourceVersionGoneException($"the watch was refused with 410 Gone: {e.Response.Content}");
        }
    }

    private static PodEvent Parse(string line)
    {
        var change = KubernetesJson.Deserialize<V1WatchEvent>(line);
        if (change?.Type is not { } type || change.ObjectProperty is not JsonElement body)
        {
            throw new JsonException($"a watch event without a type or an object: {Shorten(line)}");
        }
        if (type == "ERROR")
        {
            var status = KubernetesJson.Deserialize<V1Status>(body);
            throw status.Code == (int)HttpStatusCode.Gone
                ? new ResourceVersionGoneException($"the watch ended with 410 {status.Reason}: {status.Message}")
                : new KubernetesException(status);
        }
        return new PodEvent(type, KubernetesJson.Deserialize<V1Pod>(body));
    }

    private static string Shorten(string line) => line.Length <= 200 ? line : $"{line[..200]}…";
}
