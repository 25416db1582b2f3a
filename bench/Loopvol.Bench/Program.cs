using System.CommandLine;
using Loopvol.Bench;

var root = new RootCommand("loopvol benchmarks");
root.Subcommands.Add(JournalBenchmark.Command());
root.Subcommands.Add(ControllerBenchmark.Command());
root.Subcommands.Add(NodeBenchmark.Command());
root.Subcommands.Add(GroupBenchmark.Command());
root.Subcommands.Add(Loopvol.Bench.Csi.CsiBenchmark.Command());
root.Subcommands.Add(Loopvol.Bench.Startup.StartupBenchmark.Command());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
