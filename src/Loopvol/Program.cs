using Loopvol.Cli;

return await LoopvolCommand.RunAsync(args).ConfigureAwait(false);
