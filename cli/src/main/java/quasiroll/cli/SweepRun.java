package quasiroll.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.sweep.ClusterRunner;
import quasiroll.sweep.InProcessRunner;
import quasiroll.sweep.JobRecord;
import quasiroll.sweep.RolloutRunner;
import quasiroll.sweep.Sweep;
import quasiroll.sweep.SweepPlan;
import quasiroll.sweep.SweepProgress;
import quasiroll.sweep.SweepSpec;
import quasiroll.sweep.SweepStore;
import quasiroll.sweep.TaskCatalog;
import quasiroll.worker.node.ShardRunnerFactory;

/**
 * Runs a sweep where {@link SweepRunOptions} say, with a progress line; shared by `sweep` and
 * `demo`.
 */
final class SweepRun {
  enum Default {
    IN_PROCESS,
    LOCAL_CLUSTER
  }

  private SweepRun() {}

  /**
   * A relative model path that exists in the quasiroll checkout (models/demo) resolved there, as
   * local nodes see it.
   */
  static String inCheckout(String model) {
    try {
      java.nio.file.Path p = java.nio.file.Path.of(model);
      java.nio.file.Path inHome = DemoCommand.home().resolve(p);
      if (!p.isAbsolute() && !java.nio.file.Files.exists(p) && java.nio.file.Files.exists(inHome)) {
        return inHome.toString();
      }
    } catch (java.nio.file.InvalidPathException e) {
      // not a path (e.g. a synthetic: id): used as is
    }
    return model;
  }

  /**
   * @param defaultWhere where to run when no option chose
   * @param defaultLocalWorkers workers per model for a local cluster chosen by default
   */
  static Sweep.Outcome execute(
      SweepSpec spec,
      Path out,
      SweepRunOptions opts,
      Default defaultWhere,
      int defaultLocalWorkers,
      PrintStream err,
      boolean tty) {
    SweepRunOptions.Where w = opts.where == null ? new SweepRunOptions.Where() : opts.where;
    boolean chosen = w.coordinator != null || w.localWorkers != null || w.inProcessThreads != null;
    Integer local = w.localWorkers;
    if (!chosen && defaultWhere == Default.LOCAL_CLUSTER) {
      local = defaultLocalWorkers;
    }
    SweepProgressLine progress = new SweepProgressLine(err, tty);
    // Refuse a mismatched output directory before anything is started.
    SweepStore.open(out, spec);
    if (w.coordinator != null) {
      try (RolloutRunner runner = clusterRunner(w.coordinator, opts)) {
        return Sweep.run(spec, out, runner, TaskCatalog.builtIn(), progress);
      }
    }
    if (local != null) {
      if (local < 1) {
        throw new quasiroll.common.error.BadInputException(
            "--local " + local + " is invalid: expected at least 1 worker");
      }
      Path clusterDir = out.resolve("cluster");
      err.printf(
          "starting a local cluster: 1 coordinator + %d worker%s per model (logs: %s)%n",
          local, local == 1 ? "" : "s", clusterDir.resolve("logs"));
      try (LocalCluster cluster = LocalCluster.start(spec.models(), local, clusterDir);
          ClusterRunner runner = new ClusterRunner(cluster.target(), (String) null)) {
        AtomicReference<String> dead = new AtomicReference<>();
        ScheduledExecutorService watchdog =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "local-cluster-watchdog");
                  t.setDaemon(true);
                  return t;
                });
        // A node that dies would leave its jobs waiting forever: stop the run and say why.
        watchdog.scheduleWithFixedDelay(
            () -> {
              String d = cluster.deadNodes();
              if (d != null && !cluster.closing() && dead.compareAndSet(null, d)) {
                runner.close();
              }
            },
            1,
            1,
            TimeUnit.SECONDS);
        // Once every job is stored the cluster is not needed: it stops (workers leave, JVMs exit)
        // while the results are analysed and the report written; close() waits for it.
        AtomicReference<Thread> stopping = new AtomicReference<>();
        Runnable stop =
            () -> {
              if (stopping.compareAndSet(null, Thread.currentThread())) {
                err.println("stopping the local cluster");
                cluster.close();
              }
            };
        SweepProgress stopWhenDone =
            new SweepProgress() {
              @Override
              public void started(
                  int totalJobs,
                  int storedJobs,
                  long totalSamples,
                  long storedSamples,
                  String runner) {
                progress.started(totalJobs, storedJobs, totalSamples, storedSamples, runner);
              }

              @Override
              public void jobStarted(SweepPlan.PlannedJob job, int prompts) {
                progress.jobStarted(job, prompts);
              }

              @Override
              public void sample(int tokens) {
                progress.sample(tokens);
              }

              @Override
              public void jobFinished(SweepPlan.PlannedJob job, JobRecord record) {
                progress.jobFinished(job, record);
              }

              @Override
              public void finished() {
                progress.finished();
                watchdog.shutdownNow();
                Thread t = new Thread(stop, "local-cluster-stop");
                t.setDaemon(true);
                t.start();
              }
            };
        try {
          return Sweep.run(spec, out, runner, TaskCatalog.builtIn(), stopWhenDone);
        } catch (RuntimeException e) {
          if (dead.get() != null) {
            throw new IllegalStateException("a local cluster node died: " + dead.get(), e);
          }
          throw e;
        } finally {
          watchdog.shutdownNow();
          stop.run(); // unless already stopping; cluster.close() below waits for the stop
        }
      }
    }
    int threads =
        w.inProcessThreads == null || w.inProcessThreads == 0
            ? Runtime.getRuntime().availableProcessors()
            : w.inProcessThreads;
    ShardRunnerFactory factory = ShardRunnerFactory.fromConfig(QuasirollConfig.load(opts.config));
    int capacity = spec.largestJobK();
    try (RolloutRunner runner =
        new InProcessRunner(
            model -> factory.open(inCheckout(model), opts.device, capacity), threads)) {
      return Sweep.run(spec, out, runner, TaskCatalog.builtIn(), progress);
    }
  }

  /**
   * The runner for {@code --coordinator}: a channel with the sweep's credentials (--tls-*, --token
   * or --token-file, else $QUASIROLL_TLS_CA / $QUASIROLL_AUTH_TOKEN).
   */
  static ClusterRunner clusterRunner(String coordinator, SweepRunOptions opts) {
    ClusterRunner.checkTarget(coordinator);
    return new ClusterRunner(coordinator, opts.credentials.channel(coordinator, opts.token));
  }
}
