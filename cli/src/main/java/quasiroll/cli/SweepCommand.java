package quasiroll.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import quasiroll.sweep.Sweep;
import quasiroll.sweep.SweepSpec;
import quasiroll.sweep.SweepSpecParser;

/**
 * {@code quasiroll sweep}: a grid of rollout jobs, restartable, with estimates, plots and a report.
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a benchmark sweep: models x tasks x samplers x k x temperatures, each cell with"
          + " independent replicates, and writes OUT/results.csv, OUT/samples_saved.csv, OUT/plots/"
          + " (PNG + SVG) and OUT/report.md. The spec format is documented in"
          + " deploy/demo/synthetic-sweep.conf.",
      "Restartable: rerun the same command after an interruption and only the unfinished jobs run;"
          + " a different spec in the same OUT is refused. Jobs run in this process unless"
          + " --coordinator or --local is given."
    })
final class SweepCommand implements Callable<Integer> {
  @Option(
      names = "--spec",
      required = true,
      paramLabel = "FILE",
      description = "Sweep spec, HOCON or JSON.")
  Path spec;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Output directory (also the checkpoint).")
  Path out;

  @Mixin SweepRunOptions run;

  @Override
  public Integer call() {
    SweepSpec s = SweepSpecParser.parse(spec);
    Sweep.Outcome o =
        SweepRun.execute(
            s, out, run, SweepRun.Default.IN_PROCESS, 2, System.err, System.console() != null);
    System.out.println("report: " + o.report().toAbsolutePath());
    return Main.EXIT_OK;
  }
}
