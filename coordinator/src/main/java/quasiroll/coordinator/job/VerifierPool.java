package quasiroll.coordinator.job;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.common.task.Verifier;

/**
 * Runs verifiers off the job manager's actor: a fixed number of threads (bounded concurrency), each
 * call under a time limit, and a bounded number of calls outstanding (bounded memory). A call past
 * its limit is interrupted (the regex verifier and gRPC reward calls stop on interrupt) and
 * reported as an error, never as a reward: a reward that could not be computed fails its group, it
 * is not a 0.
 *
 * <p>Bounded queue with back-pressure: a job takes <em>reservations</em> before it may hand calls
 * over: the job manager reserves one call per sample of a shard before sending the shard to a
 * worker ({@link #tryReserve}), and releases what the shard did not use when it ends ({@link
 * #release}). When the pool is full ({@code capacity} calls reserved, queued or running, at most
 * half of them for one job) a reservation is refused and the job manager holds the job's shards
 * back: the workers get other jobs' work or wait, and the samples not yet computed wait as keys in
 * the scheduler, not as texts in memory. A call handed over without a reservation (which the job
 * manager never does) is still run and counted, so the pool refuses reservations until it drains.
 *
 * <p>Fairness: threads take calls from the jobs with queued calls in turn (round-robin), so a job
 * with a slow or black-holed verifier delays another job's calls by at most one call's time limit
 * per thread, never by its whole queue. {@link #cancel} (the job ended, e.g. failed on its first
 * timed-out reward) drops a job's queued calls and interrupts its running ones.
 *
 * <p>The outcome goes to the callback on the verifier's thread, exactly once per call, unless the
 * job was cancelled first; the job manager passes a callback that sends itself a message.
 */
public final class VerifierPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VerifierPool.class);

  /** A reward, or the reason there is none ({@code error} non-null). */
  public record Outcome(double reward, String error) {
    public boolean failed() {
      return error != null;
    }
  }

  private static final class Call {
    final String jobId;
    final Verifier verifier;
    final String text;
    final Consumer<Outcome> done;
    Thread thread;
    boolean finished;
    boolean timedOut;
    boolean cancelled;

    Call(String jobId, Verifier verifier, String text, Consumer<Outcome> done) {
      this.jobId = jobId;
      this.verifier = verifier;
      this.text = text;
      this.done = done;
    }
  }

  private static final class JobCalls {
    int reserved;
    final ArrayDeque<Call> queued = new ArrayDeque<>();
    final Set<Call> running = new HashSet<>();
    boolean cancelled;

    int outstanding() {
      return reserved + queued.size() + running.size();
    }
  }

  private final Map<String, JobCalls> jobs = new HashMap<>();

  /** Jobs with queued calls, in turn. */
  private final ArrayDeque<String> ready = new ArrayDeque<>();

  private final Thread[] threads;
  private final ScheduledExecutorService watchdog;
  private final long timeoutMs;
  private final int capacity;
  private final int perJob;
  private int total;
  private boolean closed;

  /**
   * @param threads how many verifier calls run at once
   * @param capacity most calls reserved, queued or running at once (one job: at most half, at least
   *     1)
   * @param timeout longest one call may take
   */
  public VerifierPool(int threads, int capacity, Duration timeout) {
    if (threads < 1) {
      throw new IllegalArgumentException("verifier threads " + threads + " must be >= 1");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException(
          "verifier queue capacity " + capacity + " must be >= 1 (quasiroll.verifiers.queue)");
    }
    this.capacity = capacity;
    this.perJob = Math.max(1, capacity / 2);
    this.timeoutMs = timeout.toMillis();
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "verifier-watchdog"));
    this.threads = new Thread[threads];
    for (int i = 0; i < threads; i++) {
      this.threads[i] = daemon(this::work, "verifier-" + (i + 1));
      this.threads[i].start();
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Reserves room for {@code n} calls of a job, or refuses (the caller holds the job's work back).
   * Granted when the pool and the job stay within their limits, or when nothing is outstanding (so
   * a shard larger than the capacity still runs, alone).
   */
  public synchronized boolean tryReserve(String jobId, int n) {
    if (n <= 0) {
      return true;
    }
    if (!mayReserve(jobId, n)) {
      return false;
    }
    JobCalls j = jobs.computeIfAbsent(jobId, id -> new JobCalls());
    j.reserved += n;
    total += n;
    return true;
  }

  /** Whether {@link #tryReserve} would grant {@code n} now. */
  public synchronized boolean mayReserve(String jobId, int n) {
    if (closed) {
      return false;
    }
    JobCalls j = jobs.get(jobId);
    if (j != null && j.cancelled) {
      return false;
    }
    int mine = j == null ? 0 : j.outstanding();
    return total == 0 || (total + n <= capacity && (mine == 0 || mine + n <= perJob));
  }

  /** Gives back {@code n} unused reservations of a job (its shard ended). */
  public synchronized void release(String jobId, int n) {
    JobCalls j = jobs.get(jobId);
    if (j == null || n <= 0) {
      return;
    }
    int back = Math.min(n, j.reserved);
    j.reserved -= back;
    total -= back;
    forgetIfIdle(jobId, j);
  }

  /**
   * Queues one call of a job, using one of its reservations ({@code reserved}); {@code done} gets
   * its outcome exactly once, unless the job is cancelled first. A call of a cancelled job is
   * dropped.
   */
  public void score(
      String jobId, boolean reserved, Verifier verifier, String text, Consumer<Outcome> done) {
    synchronized (this) {
      if (closed) {
        return;
      }
      JobCalls j = jobs.computeIfAbsent(jobId, id -> new JobCalls());
      if (j.cancelled) {
        return;
      }
      if (reserved && j.reserved > 0) {
        j.reserved--;
      } else {
        total++;
      }
      if (j.queued.isEmpty()) {
        ready.addLast(jobId);
      }
      j.queued.addLast(new Call(jobId, verifier, text, done));
      notify();
    }
  }

  /**
   * Forgets a job: its queued calls are dropped, its running calls interrupted (their outcomes are
   * not delivered) and its reservations returned.
   */
  public synchronized void cancel(String jobId) {
    JobCalls j = jobs.get(jobId);
    if (j == null) {
      return;
    }
    j.cancelled = true;
    total -= j.reserved + j.queued.size();
    j.reserved = 0;
    j.queued.clear();
    ready.remove(jobId);
    for (Call c : j.running) {
      c.cancelled = true;
      c.thread.interrupt();
    }
    forgetIfIdle(jobId, j);
  }

  /** Calls reserved, queued or running. */
  public synchronized int outstanding() {
    return total;
  }

  /** A job's calls reserved, queued or running. */
  public synchronized int outstanding(String jobId) {
    JobCalls j = jobs.get(jobId);
    return j == null ? 0 : j.outstanding();
  }

  private void forgetIfIdle(String jobId, JobCalls j) {
    if (j.outstanding() == 0) {
      jobs.remove(jobId);
    }
  }

  private void work() {
    while (true) {
      Call c;
      synchronized (this) {
        while (!closed && ready.isEmpty()) {
          try {
            wait();
          } catch (InterruptedException e) {
            // an interrupt meant for a call that had just finished; keep serving
          }
        }
        if (closed) {
          return;
        }
        String id = ready.pollFirst();
        JobCalls j = jobs.get(id);
        c = j.queued.pollFirst();
        if (!j.queued.isEmpty()) {
          ready.addLast(id);
        }
        c.thread = Thread.currentThread();
        j.running.add(c);
      }
      Outcome o = call(c);
      boolean deliver;
      synchronized (this) {
        JobCalls j = jobs.get(c.jobId);
        if (j != null && j.running.remove(c)) {
          total--;
          forgetIfIdle(c.jobId, j);
        }
        deliver = !c.cancelled;
      }
      Thread.interrupted(); // the call is over: clear an interrupt that came too late
      if (deliver) {
        try {
          c.done.accept(o);
        } catch (RuntimeException e) {
          log.error("a verifier outcome callback failed", e);
        }
      }
    }
  }

  private Outcome call(Call c) {
    ScheduledFuture<?> alarm =
        watchdog.schedule(
            () -> {
              synchronized (this) {
                if (!c.finished) {
                  c.timedOut = true;
                  c.thread.interrupt();
                }
              }
            },
            timeoutMs,
            TimeUnit.MILLISECONDS);
    Outcome outcome;
    try {
      double r = c.verifier.reward(c.text);
      outcome =
          Double.isFinite(r) ? new Outcome(r, null) : new Outcome(0, "the verifier returned " + r);
    } catch (Throwable e) {
      outcome =
          new Outcome(
              0,
              e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
    boolean timedOut;
    synchronized (this) {
      c.finished = true;
      timedOut = c.timedOut;
    }
    alarm.cancel(false);
    if (timedOut) {
      return new Outcome(
          0,
          "the verifier did not finish within " + timeoutMs + " ms (quasiroll.verifiers.timeout)");
    }
    return outcome;
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
      for (JobCalls j : jobs.values()) {
        for (Call c : j.running) {
          c.cancelled = true;
          c.thread.interrupt();
        }
      }
    }
    watchdog.shutdownNow();
  }
}
