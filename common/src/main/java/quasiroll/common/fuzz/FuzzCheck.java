package quasiroll.common.fuzz;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import quasiroll.common.error.BadInputException;

/**
 * The property every fuzz test checks on each mutated input (kept beside {@link Mutator} for the
 * same reason: each module's tests use it without test-jar plumbing; nothing in production calls
 * it): the call returns, or refuses the input with a {@link BadInputException}, within a time
 * limit. Any other throwable, or a hang, fails with an {@link AssertionError} that names the check,
 * the mutation and the seed that reproduce it, and the input (as UTF-8 text).
 */
public final class FuzzCheck {
  private FuzzCheck() {}

  /**
   * Runs {@code call} on its own thread (interrupted and abandoned past {@code limit}).
   *
   * @throws AssertionError if the call throws anything but a BadInputException or hangs
   */
  public static void check(
      String name, long seed, int iteration, byte[] input, Duration limit, Runnable call) {
    ExecutorService thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "fuzz-" + name);
              t.setDaemon(true);
              return t;
            });
    try {
      Future<?> run =
          thread.submit(
              () -> {
                try {
                  call.run();
                } catch (BadInputException expected) {
                  // a clear refusal
                }
              });
      run.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      throw new AssertionError(
          name
              + " threw "
              + t
              + " on mutation "
              + iteration
              + " of seed "
              + seed
              + ": "
              + new String(input, StandardCharsets.UTF_8),
          t);
    } catch (TimeoutException e) {
      throw new AssertionError(
          name
              + " hung on mutation "
              + iteration
              + " of seed "
              + seed
              + " (no answer within "
              + limit
              + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(name + " was interrupted on mutation " + iteration, e);
    } finally {
      thread.shutdownNow();
    }
  }
}
