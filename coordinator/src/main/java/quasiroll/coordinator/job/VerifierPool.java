package quasiroll.coordinator.job;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import quasiroll.common.task.Verifier;

/**
 * Runs verifiers off the job manager's actor: a fixed number of threads (bounded concurrency), each
 * call under a time limit. A call past its limit is interrupted (the regex verifier and gRPC reward
 * calls stop on interrupt) and reported as an error, never as a reward: a reward that could not be
 * computed fails its group, it is not a 0.
 *
 * <p>The outcome goes to the callback on the verifier's thread; the job manager passes a callback
 * that sends itself a message.
 */
public final class VerifierPool implements AutoCloseable {
  /** A reward, or the reason there is none ({@code error} non-null). */
  public record Outcome(double reward, String error) {
    public boolean failed() {
      return error != null;
    }
  }

  private final ExecutorService threads;
  private final ScheduledExecutorService watchdog;
  private final long timeoutMs;

  /**
   * @param threads how many verifier calls run at once
   * @param timeout longest one call may take
   */
  public VerifierPool(int threads, Duration timeout) {
    if (threads < 1) {
      throw new IllegalArgumentException("verifier threads " + threads + " must be >= 1");
    }
    AtomicInteger n = new AtomicInteger();
    this.threads =
        Executors.newFixedThreadPool(threads, r -> daemon(r, "verifier-" + n.incrementAndGet()));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "verifier-watchdog"));
    this.timeoutMs = timeout.toMillis();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Queues one call; {@code done} gets its outcome exactly once. */
  public void score(Verifier verifier, String text, Consumer<Outcome> done) {
    threads.execute(() -> done.accept(call(verifier, text)));
  }

  private Outcome call(Verifier verifier, String text) {
    Thread self = Thread.currentThread();
    Object lock = new Object();
    boolean[] state = new boolean[2]; // [finished, timedOut]
    ScheduledFuture<?> alarm =
        watchdog.schedule(
            () -> {
              synchronized (lock) {
                if (!state[0]) {
                  state[1] = true;
                  self.interrupt();
                }
              }
            },
            timeoutMs,
            TimeUnit.MILLISECONDS);
    Outcome outcome;
    try {
      double r = verifier.reward(text);
      outcome =
          Double.isFinite(r) ? new Outcome(r, null) : new Outcome(0, "the verifier returned " + r);
    } catch (Throwable e) {
      outcome =
          new Outcome(
              0,
              e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
    synchronized (lock) {
      state[0] = true;
    }
    alarm.cancel(false);
    Thread.interrupted(); // the alarm cannot fire any more; clear a late interrupt
    if (state[1]) {
      return new Outcome(
          0,
          "the verifier did not finish within " + timeoutMs + " ms (quasiroll.verifiers.timeout)");
    }
    return outcome;
  }

  @Override
  public void close() {
    threads.shutdownNow();
    watchdog.shutdownNow();
  }
}
