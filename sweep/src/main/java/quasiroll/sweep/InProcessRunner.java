package quasiroll.sweep;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import quasiroll.cluster.ApiConversions;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardRunner;

/**
 * Runs sweep jobs inside this process, no cluster: each prompt is one shard of all k indices on a
 * {@link ShardRunner}. A runner with a shared continuous-batching loop ({@link
 * ShardRunner#batchRows()} > 0, the workers' default on CPU) is opened once per model and gets
 * every prompt of a job at once (one waiting virtual thread per prompt), so the loop decodes them
 * in the same passes, exactly as a worker does. Other runners are not assumed to be thread-safe:
 * prompts are spread over {@code threads} threads, each with its own runner. A shard's samples do
 * not depend on which thread or batch decoded it.
 */
public final class InProcessRunner implements RolloutRunner {
  /** Opens a shard runner for a model id (e.g. through the worker's model loader). */
  @FunctionalInterface
  public interface ShardRunnerSource {
    ShardRunner open(String modelId);
  }

  private final ShardRunnerSource source;
  private final int threads;
  private final ExecutorService pool;
  private final ThreadLocal<Map<String, ShardRunner>> runners =
      ThreadLocal.withInitial(HashMap::new);

  /** Runners with a shared decode loop, one per model, used from any thread. */
  private final Map<String, ShardRunner> shared = new java.util.concurrent.ConcurrentHashMap<>();

  private final ExecutorService waiters = Executors.newVirtualThreadPerTaskExecutor();

  /** A per-thread runner opened to find out its kind, not yet taken by a pool thread. */
  private final Map<String, ShardRunner> spare = new java.util.concurrent.ConcurrentHashMap<>();

  public InProcessRunner(ShardRunnerSource source, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.source = source;
    this.threads = threads;
    this.pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "sweep-in-process");
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public void run(JobSpec job, Consumer<SampleResult> out) {
    AtomicBoolean failed = new AtomicBoolean();
    Object lock = new Object();
    Consumer<SampleResult> synchronizedOut =
        s -> {
          synchronized (lock) {
            out.accept(s);
          }
        };
    List<Future<?>> futures = new ArrayList<>();
    ShardRunner batching = batchingRunner(job.getModel());
    for (Prompt p : job.getPromptsList()) {
      ResolvedShard shard = shardOf(job, p);
      if (batching != null) {
        futures.add(waiters.submit(() -> batching.run(shard, synchronizedOut, failed::get)));
        continue;
      }
      futures.add(
          pool.submit(
              () ->
                  runners
                      .get()
                      .computeIfAbsent(
                          job.getModel(),
                          m -> {
                            ShardRunner s = spare.remove(m);
                            return s != null ? s : source.open(m);
                          })
                      .run(shard, synchronizedOut, failed::get)));
    }
    try {
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (ExecutionException e) {
      failed.set(true);
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("job " + job.getName() + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      failed.set(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running job " + job.getName(), e);
    }
  }

  /**
   * The model's shared-loop runner, opened on first use, or null when its runner decodes one shard
   * per call (then each pool thread opens its own).
   */
  private ShardRunner batchingRunner(String model) {
    ShardRunner r = shared.get(model);
    if (r != null) {
      return r.batchRows() > 0 ? r : null;
    }
    synchronized (shared) {
      r = shared.get(model);
      if (r == null) {
        r = source.open(model);
        shared.put(model, r);
        if (r.batchRows() == 0) {
          spare.put(model, r); // not shared: the first pool thread that needs one takes it
        }
      }
    }
    return r.batchRows() > 0 ? r : null;
  }

  /** The worker-side form of one prompt of a v1 job: every index 0..k-1 in one shard. */
  static ResolvedShard shardOf(JobSpec job, Prompt p) {
    int k = job.getK();
    int[] indices = new int[k];
    for (int i = 0; i < k; i++) {
      indices[i] = i;
    }
    // The same conversions the worker node applies to a shard of a cluster job.
    SamplerSpec sampler = ApiConversions.samplerSpec(job.getSampler());
    DecodeParams decode = ApiConversions.decodeParams(job.getDecode(), job.getSampler());
    int[] tokens = p.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    return new ResolvedShard(
        job.getName(), p.getId(), p.getText(), tokens, k, indices, sampler, decode, job.getSeed());
  }

  @Override
  public String describe() {
    return "in-process (" + threads + (threads == 1 ? " thread)" : " threads)");
  }

  @Override
  public void close() {
    pool.shutdownNow();
    waiters.shutdownNow();
    for (ShardRunner r : shared.values()) {
      if (r.batchRows() > 0 && r instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          // closing a decode loop at the end of a sweep: nothing left to lose
        }
      }
    }
  }
}
