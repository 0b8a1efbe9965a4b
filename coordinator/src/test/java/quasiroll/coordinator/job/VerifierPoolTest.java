package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import quasiroll.common.task.Verifier;

class VerifierPoolTest {
  private static final Verifier LENGTH = text -> text.length();

  /** Blocks until released (or interrupted, as a black-holed reward service would). */
  private static final class Gate implements Verifier {
    final CountDownLatch open = new CountDownLatch(1);
    final AtomicInteger entered = new AtomicInteger();

    @Override
    public double reward(String text) {
      entered.incrementAndGet();
      try {
        open.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException("interrupted", e);
      }
      return 1;
    }
  }

  private static void await(CountDownLatch l) throws InterruptedException {
    assertTrue(l.await(20, TimeUnit.SECONDS), "timed out");
  }

  @Test
  void reservationsBoundWhatIsOutstandingPoolWideAndPerJob() {
    try (VerifierPool pool = new VerifierPool(1, 8, Duration.ofSeconds(10))) {
      assertTrue(pool.tryReserve("a", 4));
      assertFalse(pool.tryReserve("a", 1), "one job gets at most half the capacity");
      assertTrue(pool.tryReserve("b", 4));
      assertFalse(pool.tryReserve("c", 1), "the pool is full");
      assertFalse(pool.mayReserve("c", 1));
      assertEquals(8, pool.outstanding());
      pool.release("b", 3);
      assertEquals(5, pool.outstanding());
      assertTrue(pool.tryReserve("c", 2));
      pool.release("a", 100); // more than it holds: gives back what it holds
      assertEquals(0, pool.outstanding("a"));
      assertEquals(3, pool.outstanding());
    }
  }

  @Test
  void aShardLargerThanTheCapacityRunsAloneRatherThanNever() {
    try (VerifierPool pool = new VerifierPool(1, 4, Duration.ofSeconds(10))) {
      assertTrue(pool.tryReserve("a", 64));
      assertFalse(pool.tryReserve("b", 1));
      pool.release("a", 64);
      assertTrue(pool.tryReserve("b", 1));
    }
  }

  @Test
  void reservedCallsRunOnceEachAndFreeTheirPlaceWhenDone() throws Exception {
    try (VerifierPool pool = new VerifierPool(2, 16, Duration.ofSeconds(10))) {
      assertTrue(pool.tryReserve("a", 5));
      CountDownLatch done = new CountDownLatch(5);
      List<Double> rewards = Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < 5; i++) {
        pool.score(
            "a",
            true,
            LENGTH,
            "x".repeat(i),
            o -> {
              rewards.add(o.reward());
              done.countDown();
            });
      }
      await(done);
      Collections.sort(rewards);
      assertEquals(List.of(0.0, 1.0, 2.0, 3.0, 4.0), rewards);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (pool.outstanding() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(0, pool.outstanding());
    }
  }

  /**
   * A job whose verifier never answers: its calls time out with a clear error, it is cancelled (as
   * the job manager does when the job fails), and another job's calls, queued behind its whole
   * backlog, finish without waiting for that backlog.
   */
  @Test
  void aBlackHoledJobTimesOutAndDoesNotHoldUpAnotherJob() throws Exception {
    try (VerifierPool pool = new VerifierPool(2, 1000, Duration.ofMillis(300))) {
      Gate hole = new Gate();
      List<VerifierPool.Outcome> slow = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch firstTimeout = new CountDownLatch(1);
      assertTrue(pool.tryReserve("slow", 400));
      for (int i = 0; i < 400; i++) {
        pool.score(
            "slow",
            true,
            hole,
            "s",
            o -> {
              slow.add(o);
              firstTimeout.countDown();
            });
      }
      assertTrue(pool.tryReserve("fast", 10));
      CountDownLatch fast = new CountDownLatch(10);
      List<VerifierPool.Outcome> fastOut = Collections.synchronizedList(new ArrayList<>());
      long start = System.nanoTime();
      for (int i = 0; i < 10; i++) {
        pool.score(
            "fast",
            true,
            LENGTH,
            "ok",
            o -> {
              fastOut.add(o);
              fast.countDown();
            });
      }
      await(firstTimeout);
      VerifierPool.Outcome t = slow.get(0);
      assertTrue(t.failed());
      assertTrue(t.error().contains("did not finish within 300 ms"), t.error());
      pool.cancel("slow"); // the job failed on its first timeout
      await(fast);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // round-robin: the fast job waits for at most one slow call per thread (300 ms), not for
      // the slow job's 400 queued calls (400 x 300 ms / 2 threads = 60 s)
      assertTrue(ms < 5_000, "the fast job took " + ms + " ms");
      fastOut.forEach(o -> assertEquals(2.0, o.reward()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (pool.outstanding() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(0, pool.outstanding(), "the cancelled job's calls were dropped");
      assertTrue(slow.size() <= 3, "outcomes after the cancel are not delivered: " + slow.size());
      assertTrue(hole.entered.get() <= 4, "queued calls of a cancelled job never run");
    }
  }

  @Test
  void aFailingOrNonFiniteRewardIsAnErrorNotAZero() throws Exception {
    try (VerifierPool pool = new VerifierPool(1, 8, Duration.ofSeconds(10))) {
      List<VerifierPool.Outcome> out = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch done = new CountDownLatch(2);
      pool.score(
          "a",
          false,
          text -> {
            throw new IllegalStateException("reward service down");
          },
          "x",
          o -> {
            out.add(o);
            done.countDown();
          });
      pool.score(
          "a",
          false,
          text -> Double.NaN,
          "x",
          o -> {
            out.add(o);
            done.countDown();
          });
      await(done);
      assertTrue(out.get(0).failed() && out.get(0).error().contains("reward service down"));
      assertTrue(out.get(1).failed() && out.get(1).error().contains("NaN"));
    }
  }
}
