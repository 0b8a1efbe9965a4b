package quasiroll.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import quasiroll.common.error.BadInputException;
import quasiroll.sweep.ResultTables;
import quasiroll.sweep.Sweep;
import quasiroll.sweep.SweepSpec;
import quasiroll.sweep.SweepSpecParser;
import quasiroll.sweep.SweepStore;

/**
 * {@code quasiroll demo}: the README's main command. Starts a local cluster, runs the bundled demo
 * sweep on it, prints the pass@k and samples-saved tables and says where the report is.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Starts a local cluster (1 coordinator + 2 workers), runs the bundled demo sweep"
          + " (deploy/demo/demo-sweep.conf: the bundled model on 120 prompts each of countdown,"
          + " sudoku and maze, iid vs lattice (vocab_order=prob) and sobol, k up to 32 with the iid"
          + " baseline to 128), prints the pass@k, pass@k / union bound and samples-saved tables"
          + " (95%% intervals), writes the report and stops the cluster (also on Ctrl-C or"
          + " failure). Rerunning continues an interrupted demo in --out."
    })
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--spec",
      paramLabel = "FILE",
      description = "Sweep spec (default: deploy/demo/demo-sweep.conf in the quasiroll checkout).")
  Path spec;

  @Option(
      names = "--out",
      defaultValue = "out/demo",
      paramLabel = "DIR",
      description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--model",
      paramLabel = "MODEL",
      description = "Run the demo on this model id instead of the spec's models.")
  String model;

  @Option(
      names = "--workers",
      defaultValue = "2",
      paramLabel = "N",
      description = "Workers of the local cluster (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--fresh",
      description =
          "Delete --out first if it holds an earlier demo sweep, instead of continuing it.")
  boolean fresh;

  @Mixin SweepRunOptions run;

  @Override
  public Integer call() {
    Path specFile = spec != null ? spec : home().resolve("deploy/demo/demo-sweep.conf");
    SweepSpec s = SweepSpecParser.parse(specFile);
    if (model != null) {
      s = s.withModels(List.of(model));
    }
    if (fresh) {
      deleteSweepDir(out);
    }
    if (workers < 1) {
      throw new BadInputException("--workers " + workers + " is invalid: expected at least 1");
    }
    System.out.printf(
        Locale.ROOT,
        "quasiroll demo: %s%n  models %s%n  samplers %s, k %s, %d replicates%n",
        specFile,
        s.models(),
        s.samplers().stream().map(quasiroll.sweep.SamplerLabel::of).toList(),
        s.ks(),
        s.replicates());
    long t0 = System.nanoTime();
    Sweep.Outcome o =
        SweepRun.execute(
            s,
            out,
            run,
            SweepRun.Default.LOCAL_CLUSTER,
            workers,
            System.err,
            System.console() != null);
    System.out.println();
    System.out.println(ResultTables.passAtK(s, o.results().cells()));
    System.out.println(ResultTables.unionBoundFraction(s, o.results().cells()));
    System.out.println(ResultTables.samplesSaved(s, o.results().samplesSaved()));
    System.out.printf(
        Locale.ROOT,
        "done in %.0f s (%d samples, %d tokens). Report: %s%n",
        (System.nanoTime() - t0) / 1e9,
        o.run().samples(),
        o.run().tokens(),
        o.report().toAbsolutePath());
    return Main.EXIT_OK;
  }

  /** The checkout the launcher runs from (it sets quasiroll.home), else the working directory. */
  static Path home() {
    String h = System.getProperty("quasiroll.home");
    return h == null ? Path.of("") : Path.of(h);
  }

  /**
   * Deletes a directory only if it is a sweep output (has a manifest): never arbitrary user data.
   */
  private static void deleteSweepDir(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isRegularFile(dir.resolve(SweepStore.MANIFEST))) {
      throw new BadInputException(
          "--fresh: '"
              + dir
              + "' is not a sweep output directory (no "
              + SweepStore.MANIFEST
              + "); not deleting it");
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
