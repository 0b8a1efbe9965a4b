package quasiroll.sweep;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;

/**
 * Runs the jobs of a {@link SweepPlan} that the {@link SweepStore} does not hold yet, up to {@link
 * RolloutRunner#concurrentJobs()} at a time, in plan order, scoring every sample with its task's
 * reward function and storing each job when all of its samples are in. Jobs already stored are
 * never rerun.
 */
public final class SweepExecutor {
  private SweepExecutor() {}

  /**
   * @return the number of jobs it ran (0 when everything was already stored)
   */
  public static int runMissing(
      SweepSpec spec,
      Map<String, SweepTask> tasks,
      SweepPlan plan,
      SweepStore store,
      RolloutRunner runner,
      SweepProgress progress) {
    int stored = 0;
    long totalSamples = 0;
    long storedSamples = 0;
    for (SweepPlan.PlannedJob j : plan.jobs()) {
      long n = (long) tasks.get(j.key().task()).prompts().size() * j.key().k();
      totalSamples += n;
      if (store.has(j.key())) {
        stored++;
        storedSamples += n;
      }
    }
    progress.started(plan.jobs().size(), stored, totalSamples, storedSamples, runner.describe());
    SweepProgress synced = synchronizedProgress(progress);
    List<SweepPlan.PlannedJob> missing =
        plan.jobs().stream().filter(j -> !store.has(j.key())).toList();
    int parallel = Math.max(1, runner.concurrentJobs());
    ExecutorService pool =
        Executors.newFixedThreadPool(
            parallel,
            r -> {
              Thread t = new Thread(r, "sweep-job");
              t.setDaemon(true);
              return t;
            });
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    AtomicInteger ran = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (SweepPlan.PlannedJob job : missing) {
      futures.add(
          pool.submit(
              () -> {
                if (failure.get() != null) {
                  return; // after a failure no further job starts; running ones finish and are kept
                }
                try {
                  SweepTask task = tasks.get(job.key().task());
                  synced.jobStarted(job, task.prompts().size());
                  long t0 = System.nanoTime();
                  JobRecord r = runOne(job, task, spec.decode(), runner, synced);
                  r =
                      new JobRecord(
                          r.jobId(),
                          r.seed(),
                          r.k(),
                          (System.nanoTime() - t0) / 1_000_000,
                          r.prompts());
                  store.save(job.key(), r);
                  ran.incrementAndGet();
                  synced.jobFinished(job, r);
                } catch (RuntimeException e) {
                  failure.compareAndSet(null, e);
                }
              }));
    }
    try {
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("sweep interrupted; rerun it to continue", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("sweep job failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
    progress.finished();
    return ran.get();
  }

  /** Progress callbacks from several job threads, one at a time. */
  private static SweepProgress synchronizedProgress(SweepProgress p) {
    return new SweepProgress() {
      @Override
      public synchronized void jobStarted(SweepPlan.PlannedJob job, int prompts) {
        p.jobStarted(job, prompts);
      }

      @Override
      public synchronized void sample(int tokens) {
        p.sample(tokens);
      }

      @Override
      public synchronized void jobFinished(SweepPlan.PlannedJob job, JobRecord record) {
        p.jobFinished(job, record);
      }
    };
  }

  private static JobRecord runOne(
      SweepPlan.PlannedJob job,
      SweepTask task,
      DecodeParams decode,
      RolloutRunner runner,
      SweepProgress progress) {
    int k = job.key().k();
    JobSpec spec = JobSpecs.of(job, task, decode);
    Map<String, Integer> promptIndex = new HashMap<>();
    for (int j = 0; j < task.prompts().size(); j++) {
      promptIndex.put(task.prompts().get(j).getId(), j);
    }
    int prompts = task.prompts().size();
    double[][] rewards = new double[prompts][k];
    String[][] answers = new String[prompts][k];
    long[] tokens = new long[prompts];
    int[] missing = {prompts * k};
    runner.run(
        spec,
        s -> {
          Integer j = promptIndex.get(s.getPromptId());
          if (j == null || s.getIndex() < 0 || s.getIndex() >= k) {
            throw new IllegalStateException(
                "job "
                    + job.key().id()
                    + " returned a sample for prompt '"
                    + s.getPromptId()
                    + "' index "
                    + s.getIndex()
                    + ", which the job does not have");
          }
          if (answers[j][s.getIndex()] != null) {
            return; // a duplicate after a retry: same key, same content (the coordinator checks the
            // hash)
          }
          Prompt p = task.prompts().get(j);
          rewards[j][s.getIndex()] = task.scorer().reward(p, s);
          answers[j][s.getIndex()] = task.scorer().answer(p, s);
          tokens[j] += s.getTokenIdsCount();
          missing[0]--;
          progress.sample(s.getTokenIdsCount());
        });
    if (missing[0] != 0) {
      throw new IllegalStateException(
          "job "
              + job.key().id()
              + " finished with "
              + missing[0]
              + " of "
              + prompts * k
              + " samples missing");
    }
    List<JobRecord.PromptOutcome> out = new ArrayList<>(prompts);
    for (int j = 0; j < prompts; j++) {
      out.add(
          new JobRecord.PromptOutcome(
              task.prompts().get(j).getId(), rewards[j], answers[j], tokens[j]));
    }
    return new JobRecord(job.key().id(), job.seed(), k, 0, out);
  }
}
