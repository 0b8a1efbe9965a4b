package quasiroll.coordinator.job;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which shard goes next, for a worker with a given model and batch capacity.
 *
 * <ul>
 *   <li>Cutting: a prompt is cut when a worker first asks for it, into S = ceil(k / capacity)
 *       STRIDED shards: shard s holds indices s, s+S, s+2S, ... (a stride-S subset of a lattice is
 *       itself a lattice, so each shard's samples stay evenly spread). Any split is correct: every
 *       sample is a pure function of its key.
 *   <li>Fairness: jobs with work for the model take turns, one shard per turn (round-robin), so a
 *       large job does not starve a small one.
 *   <li>Re-queued shards (lost with a worker) go first within their job; one larger than the asking
 *       worker's capacity is split again by stride.
 * </ul>
 *
 * <p>Pure bookkeeping, no I/O and no threads: the job manager calls it from its actor.
 */
public final class ShardScheduler {
  /**
   * A shard to run: some indices of prompt {@code promptIndex} of job {@code jobId}.
   *
   * @param attempt how many earlier runs of these indices failed or were lost (0 for a first run);
   *     parts of a split shard inherit it
   */
  public record Shard(String shardId, String jobId, int promptIndex, int[] indices, int attempt) {}

  private static final class JobQueue {
    final String jobId;
    final String model;
    final int promptCount;
    final int first;
    final int count;
    int nextPrompt;
    final ArrayDeque<Shard> pending = new ArrayDeque<>();

    JobQueue(String jobId, String model, int promptCount, int first, int count) {
      this.jobId = jobId;
      this.model = model;
      this.promptCount = promptCount;
      this.first = first;
      this.count = count;
    }

    boolean hasWork() {
      return !pending.isEmpty() || nextPrompt < promptCount;
    }
  }

  private final Map<String, JobQueue> jobs = new LinkedHashMap<>();
  private final List<String> rotation = new ArrayList<>();
  private int cursor;
  private long nextShardId;

  public void addJob(String jobId, String model, int promptCount, int k) {
    addJob(jobId, model, promptCount, 0, k);
  }

  /** A job that runs sample indices {@code first .. first + count - 1} of each prompt. */
  public void addJob(String jobId, String model, int promptCount, int first, int count) {
    jobs.put(jobId, new JobQueue(jobId, model, promptCount, first, count));
    rotation.add(jobId);
  }

  /**
   * Adds a job being resumed after a restart: no prompt is cut afresh; exactly the given missing
   * indices per prompt index are queued (as first runs).
   */
  public void addResumedJob(
      String jobId,
      String model,
      int promptCount,
      int first,
      int count,
      Map<Integer, int[]> missing) {
    JobQueue q = new JobQueue(jobId, model, promptCount, first, count);
    q.nextPrompt = promptCount;
    missing.forEach(
        (p, indices) -> {
          if (indices.length > 0) {
            q.pending.addLast(newShard(jobId, p, indices, 0));
          }
        });
    jobs.put(jobId, q);
    rotation.add(jobId);
  }

  /** Forgets a job's queued work (cancelled or finished). */
  public void removeJob(String jobId) {
    if (jobs.remove(jobId) != null) {
      int i = rotation.indexOf(jobId);
      rotation.remove(i);
      if (i < cursor) {
        cursor--;
      }
      if (cursor >= rotation.size()) {
        cursor = 0;
      }
    }
  }

  /** Puts indices back at the front of their job's queue (a lost or failed shard). */
  public void requeue(String jobId, int promptIndex, int[] indices) {
    requeue(jobId, promptIndex, indices, 0);
  }

  /** As {@link #requeue(String, int, int[])}, for the {@code attempt}-th retry. */
  public void requeue(String jobId, int promptIndex, int[] indices, int attempt) {
    JobQueue q = jobs.get(jobId);
    if (q != null && indices.length > 0) {
      q.pending.addFirst(newShard(jobId, promptIndex, indices, attempt));
    }
  }

  public boolean hasWork(String jobId) {
    JobQueue q = jobs.get(jobId);
    return q != null && q.hasWork();
  }

  /** The model of a job with queued work, or null. */
  public String model(String jobId) {
    JobQueue q = jobs.get(jobId);
    return q == null ? null : q.model;
  }

  /** Job ids with queued work, in rotation order. */
  public List<String> jobsWithWork() {
    List<String> out = new ArrayList<>();
    for (String id : rotation) {
      if (jobs.get(id).hasWork()) {
        out.add(id);
      }
    }
    return out;
  }

  /** Queued shards plus uncut prompts (each counted as one), for the queue-depth metric. */
  public long queueDepth() {
    long n = 0;
    for (JobQueue q : jobs.values()) {
      n += q.pending.size() + (q.promptCount - q.nextPrompt);
    }
    return n;
  }

  /** The next shard for a worker holding {@code model} with batch {@code capacity}, or null. */
  public Shard next(String model, int capacity) {
    return next(model, capacity, jobId -> true);
  }

  /**
   * As {@link #next(String, int)}, skipping jobs for which {@code mayTake} is false (back-pressure:
   * a job whose verifiers or sink are behind gets no more shards until they catch up; its turn
   * passes to the next job).
   */
  public Shard next(String model, int capacity, Predicate<String> mayTake) {
    int n = rotation.size();
    for (int step = 0; step < n; step++) {
      int at = (cursor + step) % n;
      JobQueue q = jobs.get(rotation.get(at));
      if (!q.model.equals(model) || !q.hasWork() || !mayTake.test(q.jobId)) {
        continue;
      }
      cursor = (at + 1) % n;
      return take(q, capacity);
    }
    return null;
  }

  private Shard take(JobQueue q, int capacity) {
    if (q.pending.isEmpty()) {
      int p = q.nextPrompt++;
      for (int[] part : strided(indexRange(q.first, q.count), capacity)) {
        q.pending.addLast(newShard(q.jobId, p, part, 0));
      }
    }
    Shard s = q.pending.pollFirst();
    if (s.indices().length > capacity) {
      List<int[]> parts = strided(s.indices(), capacity);
      for (int j = parts.size() - 1; j >= 1; j--) {
        q.pending.addFirst(newShard(q.jobId, s.promptIndex(), parts.get(j), s.attempt()));
      }
      s = newShard(q.jobId, s.promptIndex(), parts.get(0), s.attempt());
    }
    return s;
  }

  /**
   * Cuts {@code indices} into S = ceil(n / capacity) strided parts: part s takes positions s, s+S,
   * s+2S, ... of the array.
   */
  static List<int[]> strided(int[] indices, int capacity) {
    int n = indices.length;
    int parts = Math.max(1, (n + capacity - 1) / capacity);
    List<int[]> out = new ArrayList<>(parts);
    for (int s = 0; s < parts; s++) {
      int size = (n - s + parts - 1) / parts;
      int[] part = new int[size];
      for (int j = 0; j < size; j++) {
        part[j] = indices[s + j * parts];
      }
      out.add(part);
    }
    return out;
  }

  private static int[] indexRange(int first, int count) {
    int[] a = new int[count];
    Arrays.setAll(a, i -> first + i);
    return a;
  }

  private Shard newShard(String jobId, int promptIndex, int[] indices, int attempt) {
    return new Shard(jobId + "/s" + (nextShardId++), jobId, promptIndex, indices, attempt);
  }
}
